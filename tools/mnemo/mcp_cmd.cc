// `mnemo mcp`: the MCP server over stdio. Reads one JSON-RPC message per line from
// standard input, writes one answer per line to standard output (nothing else ever goes
// there) and diagnostics to standard error, until standard input closes.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "mnemo/engine.h"
#include "server/keys.h"
#include "server/limits.h"
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

  LineReader reader(STDIN_FILENO, limits.max_body_bytes);
  std::string line;
  bool key_valid = true;
  for (;;) {
    const LineReader::Next next = reader.Read(&line);
    if (next == LineReader::Next::kEof) break;
    std::optional<std::string> answer;
    if (next == LineReader::Next::kTooLong) {
      answer = util::DumpJson(server::McpServer::ErrorResponse(
          nullptr, server::kJsonRpcInvalidRequest,
          "message longer than " + std::to_string(limits.max_body_bytes) + " bytes, skipped"));
    } else {
      if (IsBlank(line)) continue;
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
      answer = mcp.HandleMessage(line, principal, actor);
    }
    if (answer && !WriteLine(*answer)) {
      std::cerr << "mnemo mcp: standard output closed\n";
      break;
    }
  }
  return kExitOk;
}

}  // namespace mnemo::cli
