// The CLI faces of src/server: `mnemo serve`, `mnemo mcp` and `mnemo keys`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"

namespace mnemo::cli {

// `mnemo serve [--host H] [--port P] [--config FILE]` (serve_cmd.cc).
// Flags override the config file, which overrides the defaults (127.0.0.1:8420).
struct ServeArgs {
  std::string host;    // "" = from the config file, else 127.0.0.1
  int port = -1;       // -1 = from the config file, else 8420; 0 = any free port
  std::string config;  // JSON server config file (src/server/config.h)
  bool quiet = false;  // no access log
};
CLI::App* RegisterServe(CLI::App* app, ServeArgs* args);
int RunServe(const std::string& data, const ServeArgs& args, const Output& out);

// `mnemo mcp [--space S]`: MCP over stdio (mcp_cmd.cc).
struct McpArgs {
  std::string space;  // default space for tools that omit "space"
};
CLI::App* RegisterMcp(CLI::App* app, McpArgs* args);
int RunMcp(const std::string& data, const McpArgs& args);

// `mnemo keys create|list|revoke` (keys_cmd.cc).
struct KeysArgs {
  std::string name;                 // create: a label
  std::vector<std::string> grants;  // create: "SPACE:ROLE" (SPACE may be "*")
  std::optional<std::string> user;  // create: the end user the key acts as (none = every user)
  std::string deny_labels;          // create: labels the key never sees, comma-separated
  std::string id;                   // revoke: key id
};
struct KeysCommands {
  CLI::App* keys = nullptr;
  CLI::App* create = nullptr;
  CLI::App* list = nullptr;
  CLI::App* revoke = nullptr;
  CLI::App* reset = nullptr;
};
KeysCommands RegisterKeys(CLI::App* app, KeysArgs* args);
int RunKeys(const std::string& data, const KeysCommands& cmds, const KeysArgs& args,
            const Output& out);

}  // namespace mnemo::cli
