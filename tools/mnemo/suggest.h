// "Did you mean ...": when CLI11 refuses a command line, the first word no command or
// option knows, named with the nearest known one.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mnemo::cli {

// The known name closest to `word` (edit distance at most 2, and less than half the
// word), or "" when none is.
std::string Nearest(const std::string& word, const std::vector<std::string>& known);

// A message for the first word of argv that `app` does not know: "unknown command
// 'serch'; did you mean 'search'?" or "unknown option '--usr' for 'mnemo add'; did you
// mean '--user'?". nullopt when every word is known (CLI11's own message then stands).
std::optional<std::string> UnknownWordMessage(const CLI::App& app, int argc,
                                              const char* const* argv);

}  // namespace mnemo::cli
