// `mnemo profile` (a user's core memory, editable) and `mnemo context` (a prompt-ready
// block of memory within a token budget). context_cmd.cc; docs/lifecycle.md.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli.h"

namespace mnemo::cli {

struct ContextArgs {
  std::string space, user, now, reason;
  int limit = 20;     // profile: entries shown
  int budget = 1500;  // context: tokens
  int k = 30;         // context: memories retrieved before the budget cuts
  int profile_entries = 20;
  std::vector<std::string> edits;   // profile --edit KEY=VALUE
  std::vector<std::string> unsets;  // profile --unset KEY
  std::vector<std::string> query_words;
  std::vector<std::string> exclude_labels;  // context --exclude-label
};
struct ContextCommands {
  CLI::App* profile = nullptr;
  CLI::App* context = nullptr;
};
ContextCommands RegisterContext(CLI::App* app, ContextArgs* args);
int RunContextCommand(const std::string& data, const ContextCommands& cmds, const ContextArgs& args,
                      const Output& out);

}  // namespace mnemo::cli
