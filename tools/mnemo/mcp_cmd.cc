// `mnemo mcp`: the MCP server over stdio. Reads one JSON-RPC message per line from
// standard input, writes one answer per line to standard output (nothing else ever goes
// there) and diagnostics to standard error, until standard input closes.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mnemo/engine.h"
#include "mnemo/version.h"
#include "server/keys.h"
#include "server/limits.h"
#include "server/local_socket.h"
#include "server/mcp.h"
#include "server_cmd.h"
#include "util/json_codec.h"

namespace mnemo::cli {
namespace {

constexpr const char* kServerVersion = MNEMO_VERSION;  // project(VERSION) in CMakeLists.txt

// Splits a file descriptor into lines without ever holding more than `max_bytes` of one
// line: a longer line is skipped to its end and reported as kTooLong.
class LineReader {
 public:
  enum class Next { kLine, kTooLong, kEof };

  LineReader(int fd, size_t max_bytes) : fd_(fd), max_(max_bytes) {}

  Next Read(std::string* line) {
    bool too_long = false;
    for (;;) {
      const size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        const size_t len = nl - pos_;
        if (!too_long && len <= max_) line->assign(buf_, pos_, len);
        too_long = too_long || len > max_;
        pos_ = nl + 1;
        return too_long ? Next::kTooLong : Next::kLine;
      }
      if (buf_.size() - pos_ > max_) {  // no end in sight: drop what we have
        too_long = true;
        buf_.clear();
        pos_ = 0;
      }
      if (eof_) {
        if (too_long) return Next::kTooLong;
        if (pos_ == buf_.size()) return Next::kEof;
        line->assign(buf_, pos_, std::string::npos);  // a last line without '\n'
        buf_.clear();
        pos_ = 0;
        return Next::kLine;
      }
      Fill();
    }
  }

 private:
  void Fill() {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    char chunk[64 * 1024];
    for (;;) {
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n > 0) {
        buf_.append(chunk, static_cast<size_t>(n));
        return;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) std::cerr << "mnemo mcp: reading standard input failed: errno " << errno << "\n";
      eof_ = true;
      return;
    }
  }

  const int fd_;
  const size_t max_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

bool IsBlank(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }

// Writes one message and its newline; false when the client is gone.
bool WriteLine(const std::string& message) {
  return std::fwrite(message.data(), 1, message.size(), stdout) == message.size() &&
         std::fputc('\n', stdout) != EOF && std::fflush(stdout) == 0;
}

// The stdio transport: one JSON-RPC message per line of standard input, each answer
// `handle` gives (none for a notification) as one line of standard output, until the
// input ends. A line over `max_bytes` is answered with an error and skipped; an error
// from `handle` ends the session with its exit code.
using LineHandler = std::function<Result<std::optional<std::string>>(std::string& line)>;
int ServeStdio(size_t max_bytes, const LineHandler& handle) {
  LineReader reader(STDIN_FILENO, max_bytes);
  std::string line;
  for (;;) {
    const LineReader::Next next = reader.Read(&line);
    if (next == LineReader::Next::kEof) break;
    std::optional<std::string> answer;
    if (next == LineReader::Next::kTooLong) {
      answer = util::DumpJson(server::McpServer::ErrorResponse(
          nullptr, server::kJsonRpcInvalidRequest,
          "message longer than " + std::to_string(max_bytes) + " bytes, skipped"));
    } else {
      if (IsBlank(line)) continue;
      auto r = handle(line);
      if (!r.ok()) {
        std::cerr << "mnemo mcp: " << r.status().message() << "\n";
        return ExitCodeFor(r.status());
      }
      answer = std::move(r).value();
    }
    if (answer && !WriteLine(*answer)) {
      std::cerr << "mnemo mcp: standard output closed\n";
      break;
    }
  }
  return kExitOk;
}

// `mnemo mcp` while `mnemo serve` holds the data directory: each message goes to the
// server's /mcp through the directory's Unix socket (server/local_socket.h), each answer
// comes back on stdout, so the client sees the same MCP server. The key rules are those
// of the local server: with keys configured, $MNEMO_API_KEY is required and sent.
int RunMcpProxy(const std::string& data, const McpArgs& args,
                std::unique_ptr<server::LocalHttpClient> client) {
  const server::Limits limits;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
  auto keys = server::KeyStore::Open(data, nullptr);
  if (!keys.ok()) {
    std::cerr << "mnemo mcp: " << keys.status().message() << "\n";
    return ExitCodeFor(keys.status());
  }
  if ((*keys)->Configured()) {
    const char* secret = std::getenv("MNEMO_API_KEY");
    if (secret == nullptr || *secret == '\0') {
      std::cerr << "mnemo mcp: " << data
                << " has API keys: set MNEMO_API_KEY to one of them (see mnemo keys create)\n";
      return kExitBadInput;
    }
    headers.emplace_back("Authorization", std::string("Bearer ") + secret);
  }
  auto call = [&](const std::string& target, const std::string& body) {
    return client->Request("POST", target, headers, body);
  };
  if (!args.space.empty()) {
    auto r = call("/v1/ops/get_space", util::DumpJson(util::Json{{"space", args.space}}));
    if (!r.ok() || r->status != 200) {
      if (r.ok() && r->status == 404) {
        std::cerr << "mnemo mcp: space '" << args.space
                  << "' does not exist (create it with: mnemo --data " << data << " space create "
                  << args.space << ")\n";
        return kExitNotFound;
      }
      std::cerr << "mnemo mcp: the server at " << server::LocalSocketPath(data) << " answered "
                << (r.ok() ? r->body : r.status().message()) << "\n";
      return r.ok() ? kExitBadInput : ExitCodeFor(r.status());
    }
  }
  std::cerr << "mnemo mcp: serving " << data << " through the running server"
            << (args.space.empty() ? std::string() : " (default space '" + args.space + "')")
            << " on stdio\n";
  return ServeStdio(
      limits.max_body_bytes, [&](std::string& line) -> Result<std::optional<std::string>> {
        // The default space goes into tool calls that name none, as --space does locally.
        auto message = util::ParseJson(line);
        if (!args.space.empty() && message.ok() && message->is_object() &&
            message->value("method", "") == "tools/call" && (*message)["params"].is_object()) {
          util::Json& arguments = (*message)["params"]["arguments"];
          if (arguments.is_null()) arguments = util::Json::object();
          if (arguments.is_object() && !arguments.contains("space")) {
            arguments["space"] = args.space;
            line = util::DumpJson(*message);
          }
        }
        auto r = call("/mcp", line);
        if (!r.ok()) return r.status();
        // The negotiated version goes with every later message, as MCP clients send it.
        auto body = util::ParseJson(r->body);
        if (body.ok() && body->is_object() && (*body)["result"].is_object() &&
            (*body)["result"].contains("protocolVersion") && message.ok() &&
            message->value("method", "") == "initialize") {
          std::erase_if(headers, [](const auto& h) { return h.first == "MCP-Protocol-Version"; });
          headers.emplace_back("MCP-Protocol-Version",
                               (*body)["result"]["protocolVersion"].get<std::string>());
        }
        if (r->status == 202 || r->body.empty())
          return std::optional<std::string>();  // notification
        return std::optional<std::string>(r->body);
      });
}

}  // namespace

CLI::App* RegisterMcp(CLI::App* app, McpArgs* args) {
  auto* c = app->add_subcommand(
      "mcp",
      "serve MCP (Model Context Protocol) on stdin/stdout for an LLM client; with API keys "
      "configured, the key comes from $MNEMO_API_KEY");
  c->add_option("--space", args->space, "default space for tool calls that name none");
  return c;
}

int RunMcp(const std::string& data, const McpArgs& args) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that went away is a write error, not a signal
  const server::Limits limits;

  auto options = EngineOptions(data);
  if (!options.ok()) {
    std::cerr << "mnemo mcp: " << options.status().message() << "\n";
    return ExitCodeFor(options.status());
  }
  options->max_text_bytes = limits.max_text_bytes;
  options->background_jobs = true;
  auto engine = Engine::Open(data, *options);
  if (!engine.ok() && engine.status().code() == StatusCode::kFailedPrecondition) {
    // Held by another process: a running server, when one answers on the socket.
    auto client = std::make_unique<server::LocalHttpClient>(server::LocalSocketPath(data));
    if (client->Connect().ok()) return RunMcpProxy(data, args, std::move(client));
  }
  if (!engine.ok()) {
    std::cerr << "mnemo mcp: " << engine.status().message() << "\n";
    return ExitCodeFor(engine.status());
  }
  auto keys = server::KeyStore::Open(data, nullptr);
  if (!keys.ok()) {
    std::cerr << "mnemo mcp: " << keys.status().message() << "\n";
    return ExitCodeFor(keys.status());
  }

  // Who is calling: the key in $MNEMO_API_KEY when the data directory has keys (checked
  // again before every message, so a revoked key stops working), else everyone.
  const char* env_secret = std::getenv("MNEMO_API_KEY");
  const std::string secret = env_secret ? env_secret : "";
  const bool with_keys = (*keys)->Configured();
  server::Principal principal;
  std::string actor = "mcp";
  if (with_keys) {
    if (secret.empty()) {
      std::cerr << "mnemo mcp: " << data
                << " has API keys: set MNEMO_API_KEY to one of them (see mnemo keys create)\n";
      return kExitBadInput;
    }
    auto p = (*keys)->Authenticate(secret);
    if (!p) {
      std::cerr << "mnemo mcp: MNEMO_API_KEY is not a valid key of " << data
                << " (unknown, revoked or malformed)\n";
      return kExitBadInput;
    }
    principal = std::move(*p);
    actor = "mcp:" + principal.key_id;
  } else {
    principal.unrestricted = true;
  }

  if (!args.space.empty()) {
    auto spaces = (*engine)->ListSpaces();
    if (!spaces.ok()) {
      std::cerr << "mnemo mcp: " << spaces.status().message() << "\n";
      return ExitCodeFor(spaces.status());
    }
    bool found = false;
    for (const auto& s : *spaces) found = found || s.name == args.space;
    if (!found) {
      std::cerr << "mnemo mcp: space '" << args.space << "' does not exist (create it with: mnemo"
                << " --data " << data << " space create " << args.space << ")\n";
      return kExitNotFound;
    }
  }

  const server::McpServer mcp(**engine, limits, args.space, "mnemo", kServerVersion);
  std::cerr << "mnemo mcp: serving " << data
            << (args.space.empty() ? std::string() : " (default space '" + args.space + "')")
            << " on stdio\n";

  bool key_valid = true;
  return ServeStdio(
      limits.max_body_bytes, [&](std::string& line) -> Result<std::optional<std::string>> {
        if (with_keys) {
          if (Status s = (*keys)->MaybeReload(); !s.ok()) {
            std::cerr << "mnemo mcp: keeping the keys loaded before: " << s.message() << "\n";
          }
          auto p = (*keys)->Authenticate(secret);
          if (key_valid && !p) std::cerr << "mnemo mcp: MNEMO_API_KEY was revoked\n";
          key_valid = p.has_value();
          // A revoked key keeps the connection but may do nothing: every tool is forbidden.
          if (p) {
            principal = std::move(*p);
          } else {
            principal.spaces.clear();
            principal.unrestricted = false;
          }
        }
        return mcp.HandleMessage(line, principal, actor);
      });
}

}  // namespace mnemo::cli
