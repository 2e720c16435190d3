// Documentation generated from the command tree itself, so that it cannot drift from
// the parser: `mnemo man` prints the manual page mnemo(1) (roff), `mnemo completion bash`
// a bash completion script. The build generates both for installation (cmake/Install.cmake).
#pragma once

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace mnemo::cli {

struct DocsCommands {
  CLI::App* man = nullptr;
  CLI::App* completion = nullptr;
  std::string shell;  // completion's SHELL argument
};

// Adds `man` and `completion SHELL` to `app`; `commands` must outlive the parse.
void RegisterDocs(CLI::App* app, DocsCommands* commands);

// The manual page of every command and option of `app` (man(7) macros).
std::string ManPage(const CLI::App& app);

// A bash completion script for `app`: commands, their options, files for values.
std::string BashCompletion(const CLI::App& app);

// Prints the page or script the parsed command asks for; the exit code.
int RunDocs(const CLI::App& app, const DocsCommands& commands);

}  // namespace mnemo::cli
