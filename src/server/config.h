// The server's configuration file (`mnemo serve --config FILE`), JSON:
//   {"host": "127.0.0.1", "port": 8420, "default_space": "", "access_log": true,
//    "limits": {"max_body_bytes": 4194304, "max_batch": 1000, "max_k": 100, ...}}
// Every key is optional (defaults: limits.h); an unknown key or a value of the wrong type
// or out of range is an error naming it. Command-line flags override the file.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mnemo/status.h"
#include "server/limits.h"

namespace mnemo::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8420;
  std::string default_space;  // MCP tools that omit "space"
  bool access_log = true;
  Limits limits;
  // Browser defences (AppConfig): more names this server answers to, and more origins
  // whose pages may call it.
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_origins;
};

Result<ServerConfig> ParseServerConfig(std::string_view json_text);
Result<ServerConfig> LoadServerConfig(const std::string& path);

}  // namespace mnemo::server
