// The MCP face: mnemo's operations as Model Context Protocol tools.
//
// McpServer speaks JSON-RPC 2.0 as MCP defines it (lifecycle: initialize, ping,
// notifications/initialized; tools: tools/list, tools/call) independently of the
// transport. `mnemo mcp` carries it over stdio (one message per line) and HandleMcpHttp
// over the Streamable HTTP transport (POST /mcp, one JSON answer per request, no SSE).
//
// Protocol versions: every one in SupportedProtocolVersions(). initialize echoes the
// client's version when it is supported and answers the latest otherwise (the client then
// decides whether to disconnect). The server keeps no per-client state: every message is
// answered on its own, so requests are served whether or not initialize came first.
// JSON-RPC batches (protocol 2025-03-26 only) are accepted, except over HTTP when the
// MCP-Protocol-Version header names a version that removed them.
//
// Errors: malformed JSON -> -32700, a message that is not a JSON-RPC request ->
// -32600, unknown method -> -32601, bad params or unknown tool -> -32602, a bug ->
// -32603. An operation that fails (bad argument, not found, forbidden) is a tool result
// with isError: true whose text is the error JSON of server/errors.h, so that the model
// can read it and correct its call.
//
// Every tool runs the ops:: function of the same name with the principal given for the
// message, so API keys scope MCP exactly as they scope REST.
//
// Thread safety: an McpServer is immutable after construction; HandleMessage may be
// called from any number of threads at once (the Engine is thread-safe).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/engine.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/limits.h"
#include "util/json_codec.h"

namespace mnemo::server {

// JSON-RPC 2.0 error codes used by MCP.
enum McpErrorCode {
  kJsonRpcParseError = -32700,
  kJsonRpcInvalidRequest = -32600,
  kJsonRpcMethodNotFound = -32601,
  kJsonRpcInvalidParams = -32602,
  kJsonRpcInternalError = -32603,
};

// How a message arrived, for the rules that differ between transports and versions.
struct McpMessageOptions {
  // The protocol version the transport announced for this message ("" = unknown, as on
  // stdio). When it is 2025-06-18 or later, a JSON-RPC batch is an invalid request.
  std::string protocol_version;
};

class McpServer {
 public:
  // `default_space` ("" = none) is added as "space" to tool calls that omit it, and
  // "space" is required by the tool schemas only when there is no default.
  // `name`/`version` are announced as serverInfo.
  McpServer(Engine& engine, Limits limits, std::string default_space, std::string name,
            std::string version);

  // Answers one JSON-RPC message (or a batch) given as text. Returns the response text
  // (compact JSON without newlines), or nullopt when nothing is to be sent back
  // (notifications, responses, a batch of those). `actor` is recorded in history.
  std::optional<std::string> HandleMessage(std::string_view json_text, const Principal& principal,
                                           std::string_view actor,
                                           const McpMessageOptions& options = {}) const;

  // The same on a parsed message.
  std::optional<util::Json> HandleJson(const util::Json& message, const Principal& principal,
                                       std::string_view actor,
                                       const McpMessageOptions& options = {}) const;

  // The tools/list result: {"tools": [...]}.
  const util::Json& ToolList() const { return tools_; }
  const std::string& default_space() const { return default_space_; }

  // Newest first: "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07".
  static const std::vector<std::string>& SupportedProtocolVersions();
  static bool IsSupportedProtocolVersion(std::string_view version);
  // A JSON-RPC error response {"jsonrpc":"2.0","id":id,"error":{"code","message"}}.
  static util::Json ErrorResponse(const util::Json& id, int code, std::string_view message);

 private:
  util::Json HandleRequest(const util::Json& id, const std::string& method,
                           const util::Json& params, const Principal& principal,
                           std::string_view actor) const;
  util::Json Initialize(const util::Json& id, const util::Json& params) const;
  util::Json CallTool(const util::Json& id, const util::Json& params, const Principal& principal,
                      std::string_view actor) const;

  Engine& engine_;
  const Limits limits_;
  const std::string default_space_;
  const std::string name_;
  const std::string version_;
  util::Json tools_;  // set once by the constructor
};

// The Streamable HTTP endpoint (route "/mcp"). POST carries one JSON-RPC message
// (Content-Type application/json; Accept must allow application/json or
// text/event-stream, else 406): a request gets 200 with the JSON response, notifications
// and responses get 202 with no body, a malformed body gets 400 with a JSON-RPC error.
// GET and DELETE get 405 (no SSE stream, no sessions to end). A present Origin header
// that is not http(s)://localhost, 127.0.0.1 or [::1] (any port) gets 403 (DNS
// rebinding), and a present MCP-Protocol-Version that is not supported gets 400.
// Authentication is the caller's: `principal` is whom the API key resolved to.
HttpResponse HandleMcpHttp(const McpServer& server, const HttpRequest& request,
                           const Principal& principal, std::string_view actor);

// True when `origin` (an Origin header value) names this machine's loopback host.
bool IsLoopbackOrigin(std::string_view origin);

}  // namespace mnemo::server
