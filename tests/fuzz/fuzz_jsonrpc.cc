// libFuzzer target: the MCP JSON-RPC framing (src/server/mcp.h).
//
// Input: two flag bytes, then the text of one JSON-RPC message (or batch).
//   byte 0 bit 0:    the caller holds the read role only (else write) on the space "fuzz"
//   byte 0 bits 1-2: the protocol version the transport announced ("", 2025-06-18,
//                    2025-03-26, 2025-11-25)
//   byte 0 bit 3:    also POST/GET/... it to HandleMcpHttp, with the request line and
//                    headers chosen by byte 1:
//     bits 0-1 method (POST, POST, GET, DELETE), bits 2-3 Content-Type (application/json,
//     "application/json; charset=utf-8", text/plain, none), bit 4 Accept
//     "application/json, text/event-stream" (else absent or "text/html" with bit 6),
//     bit 5 Origin (http://localhost:1234 or, with bit 6, http://evil.example),
//     bit 7 MCP-Protocol-Version (the version of byte 0, "1999-01-01" when that is "")
// McpServer::HandleMessage answers the text (stdio path) over a real Engine opened once
// in a temp dir with a default space, so tools/call runs the operations.
//
// Invariants: no crash, exception, leak or UB; an answer is one line of valid JSON: a
// JSON-RPC 2.0 response object ("jsonrpc":"2.0", "id", exactly one of "result" /
// "error" with an integer code of the MCP set and a non-empty message), or for a batch
// a non-empty array of them; a request (object with a valid id and a method) is always
// answered with its id, a notification never; tool results have the CallToolResult shape
// (isError with an error JSON, or structuredContent equal to the text); a read-only
// caller's write tools fail. Over HTTP: only the documented statuses, 202 without a
// body, 403 for a foreign Origin, 405 with Allow: POST.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/limits.h"
#include "server/mcp.h"
#include "util/json_codec.h"

namespace mnemo::fuzz {
namespace {

using util::Json;

constexpr char kSpace[] = "fuzz";

struct World {
  TempEngine engine{kSpace};
  server::Limits limits;
  std::unique_ptr<server::McpServer> mcp;
  server::Principal writer;
  server::Principal reader;
};
World* world = nullptr;

const char* const kVersions[] = {"", "2025-06-18", "2025-03-26", "2025-11-25"};

bool IsValidId(const Json& id) { return id.is_string() || id.is_number(); }

bool IsWriteTool(const std::string& name) {
  return name == "add_memory" || name == "ingest_conversation" || name == "update_memory" ||
         name == "delete_memory";
}

// One response object of an answer.
void CheckResponse(const Json& r) {
  FUZZ_CHECK(r.is_object(), "a response is not an object: " + util::DumpJson(r));
  FUZZ_CHECK(r.contains("jsonrpc") && r["jsonrpc"] == "2.0", "response without jsonrpc 2.0");
  FUZZ_CHECK(r.contains("id"), "response without id");
  FUZZ_CHECK(r["id"].is_null() || IsValidId(r["id"]), "response id neither null, string, number");
  const bool has_result = r.contains("result"), has_error = r.contains("error");
  FUZZ_CHECK(has_result != has_error, "a response needs exactly one of result and error");
  if (has_error) {
    const Json& e = r["error"];
    FUZZ_CHECK(e.is_object() && e.contains("code") && e["code"].is_number_integer(),
               "error without an integer code");
    const int code = e["code"].get<int>();
    FUZZ_CHECK(code == server::kJsonRpcParseError || code == server::kJsonRpcInvalidRequest ||
                   code == server::kJsonRpcMethodNotFound || code == server::kJsonRpcInvalidParams,
               "unexpected error code " + std::to_string(code) + ": " + util::DumpJson(e));
    FUZZ_CHECK(e.contains("message") && e["message"].is_string() &&
                   !e["message"].get_ref<const std::string&>().empty(),
               "error without a message");
    return;
  }
  const Json& result = r["result"];
  FUZZ_CHECK(result.is_object(), "result is not an object");
  if (!result.contains("content")) return;  // not a tool result
  // CallToolResult.
  FUZZ_CHECK(result["content"].is_array() && result["content"].size() == 1 &&
                 result["content"][0]["type"] == "text" && result["content"][0]["text"].is_string(),
             "tool result content shape: " + util::DumpJson(result));
  FUZZ_CHECK(result.contains("isError") && result["isError"].is_boolean(), "tool result isError");
  auto text = util::ParseJson(result["content"][0]["text"].get_ref<const std::string&>());
  FUZZ_CHECK(text.ok(), "tool result text is not JSON");
  if (result["isError"].get<bool>()) {
    FUZZ_CHECK(!result.contains("structuredContent"), "failed tool with structuredContent");
    const Json& err = *text;
    FUZZ_CHECK(err.contains("error") && err["error"].is_object() && err["error"].contains("code") &&
                   err["error"]["code"].is_string() && err["error"].contains("message") &&
                   err["error"]["message"].is_string() &&
                   !err["error"]["message"].get_ref<const std::string&>().empty(),
               "tool error JSON shape: " + util::DumpJson(err));
  } else {
    FUZZ_CHECK(result.contains("structuredContent") && result["structuredContent"].is_object() &&
                   *text == result["structuredContent"],
               "tool result text differs from structuredContent");
  }
}

// What an answer must look like, given the message it answers.
void CheckAnswer(const Json* message, const std::optional<Json>& answer, bool read_only) {
  if (answer) {
    if (answer->is_array()) {
      FUZZ_CHECK(!answer->empty(), "empty batch answer");
      FUZZ_CHECK(message != nullptr && message->is_array() && answer->size() <= message->size(),
                 "batch answer without a batch, or longer than it");
      for (const auto& r : *answer) CheckResponse(r);
    } else {
      CheckResponse(*answer);
    }
  }
  if (message == nullptr || !message->is_object()) return;
  const Json& m = *message;
  const bool is_request = m.contains("jsonrpc") && m["jsonrpc"] == "2.0" && m.contains("id") &&
                          IsValidId(m["id"]) && m.contains("method") && m["method"].is_string() &&
                          (!m.contains("params") || m["params"].is_object());
  const bool is_notification =
      m.contains("jsonrpc") && m["jsonrpc"] == "2.0" && !m.contains("id") && m.contains("method") &&
      m["method"].is_string() &&
      (!m.contains("params") || m["params"].is_object() || m["params"].is_array());
  if (is_notification) FUZZ_CHECK(!answer, "a notification was answered");
  if (!is_request) return;
  FUZZ_CHECK(answer && answer->is_object(), "a request got no answer");
  FUZZ_CHECK((*answer)["id"] == m["id"], "the answer's id is not the request's");
  if (read_only && m["method"] == "tools/call" && m.contains("params") &&
      m["params"].contains("name") && m["params"]["name"].is_string() &&
      IsWriteTool(m["params"]["name"].get_ref<const std::string&>()) &&
      answer->contains("result")) {
    FUZZ_CHECK((*answer)["result"]["isError"] == true,
               "a read-only caller's write tool succeeded: " + util::DumpJson(m));
  }
}

void FuzzHttp(const server::Principal& p, bool read_only, uint8_t h, const std::string& version,
              std::string_view body) {
  server::HttpRequest req;
  static const char* const kMethods[] = {"POST", "POST", "GET", "DELETE"};
  req.method = kMethods[h & 3];
  req.target = req.path = "/mcp";
  static const char* const kTypes[] = {"application/json", "application/json; charset=utf-8",
                                       "text/plain", nullptr};
  if (const char* t = kTypes[(h >> 2) & 3]) req.headers.emplace_back("content-type", t);
  const bool bad = (h & 64) != 0;
  if ((h & 16) != 0) {
    req.headers.emplace_back("accept", "application/json, text/event-stream");
  } else if (bad) {
    req.headers.emplace_back("accept", "text/html");
  }
  if ((h & 32) != 0) {
    req.headers.emplace_back("origin", bad ? "http://evil.example" : "http://localhost:1234");
  }
  if ((h & 128) != 0) {
    req.headers.emplace_back("mcp-protocol-version", version.empty() ? "1999-01-01" : version);
  }
  req.body = std::string(body);
  req.remote = "127.0.0.1";

  const server::HttpResponse r = server::HandleMcpHttp(*world->mcp, req, p, "mcp:fuzz");
  const int s = r.status;
  if (Verbose()) std::fprintf(stderr, "HTTP %d %s\n", s, r.body.c_str());
  FUZZ_CHECK(s == 200 || s == 202 || s == 400 || s == 403 || s == 405 || s == 406 || s == 415,
             "unexpected HTTP status " + std::to_string(s));
  FUZZ_CHECK(r.route == "/mcp", "route not set");
  if ((h & 32) != 0 && bad) FUZZ_CHECK(s == 403, "foreign Origin not refused");
  if (s == 405) {
    bool allow = false;
    for (const auto& [k, v] : r.headers) allow |= k == "Allow" && v == "POST";
    FUZZ_CHECK(allow, "405 without Allow: POST");
  }
  if (s == 202) {
    FUZZ_CHECK(r.body.empty(), "202 with a body");
    return;
  }
  FUZZ_CHECK(r.body.find('\n') == std::string::npos, "HTTP answer holds a newline");
  auto answer = util::ParseJson(r.body);
  FUZZ_CHECK(answer.ok(), "HTTP answer is not JSON: " + r.body.substr(0, 200));
  if (s == 200) {
    auto message = util::ParseJson(body);
    FUZZ_CHECK(message.ok(), "200 for a body that is not JSON");
    CheckAnswer(&*message, *answer, read_only);
  } else {
    CheckResponse(*answer);
    FUZZ_CHECK((*answer).contains("error"), "HTTP error status with a JSON-RPC result");
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const uint8_t flags = data[0], http = data[1];
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  const bool read_only = (flags & 1) != 0;
  const server::Principal& p = read_only ? world->reader : world->writer;
  server::McpMessageOptions options;
  options.protocol_version = kVersions[(flags >> 1) & 3];

  const std::optional<std::string> answer = world->mcp->HandleMessage(text, p, "mcp:fuzz", options);
  if (Verbose()) std::fprintf(stderr, "answer: %s\n", answer ? answer->c_str() : "(none)");
  auto message = util::ParseJson(text);
  std::optional<Json> parsed_answer;
  if (answer) {
    FUZZ_CHECK(answer->find('\n') == std::string::npos, "answer is not one line");
    auto a = util::ParseJson(*answer);
    FUZZ_CHECK(a.ok(), "answer is not valid JSON: " + answer->substr(0, 200));
    parsed_answer = std::move(*a);
  }
  if (!message.ok()) {
    FUZZ_CHECK(parsed_answer && parsed_answer->is_object(), "malformed JSON not answered");
    const Json& a = *parsed_answer;
    FUZZ_CHECK(a.contains("error") && a["error"].is_object() && a["error"].contains("code") &&
                   a["error"]["code"] == server::kJsonRpcParseError && a.contains("id") &&
                   a["id"].is_null(),
               "malformed JSON not answered with a parse error: " + *answer);
  }
  CheckAnswer(message.ok() ? &*message : nullptr, parsed_answer, read_only);

  if ((flags & 8) != 0) FuzzHttp(p, read_only, http, options.protocol_version, text);
}

}  // namespace
}  // namespace mnemo::fuzz

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  using namespace mnemo;
  static fuzz::World w;
  fuzz::world = &w;
  w.mcp = std::make_unique<server::McpServer>(w.engine.engine(), w.limits, fuzz::kSpace, "mnemo",
                                              "fuzz");
  w.writer.key_id = "fuzz-writer";
  w.writer.spaces.emplace(fuzz::kSpace, server::Role::kWrite);
  w.reader.key_id = "fuzz-reader";
  w.reader.spaces.emplace(fuzz::kSpace, server::Role::kRead);
  // A few memories (ids 1..3: the clock is frozen at 0), so that get/update/history/search
  // find something.
  for (const char* text : {"Maya is allergic to peanuts", "Maya moved to Lisbon in March 2024",
                           "Tom prefers tea over coffee"}) {
    util::Json call = {
        {"jsonrpc", "2.0"},
        {"id", 1},
        {"method", "tools/call"},
        {"params",
         {{"name", "add_memory"},
          {"arguments",
           {{"text", text}, {"user", text[0] == 'M' ? "maya" : "tom"}, {"kind", "fact"}}}}}};
    auto r = w.mcp->HandleJson(call, w.writer, "mcp:fuzz");
    if (!r || !(*r)["result"].is_object() || (*r)["result"]["isError"] != false) {
      fuzz::Fail(__FILE__, __LINE__, "seed add_memory", r ? util::DumpJson(*r) : "no answer");
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mnemo::fuzz::NoThrow("MCP JSON-RPC", [&] { mnemo::fuzz::FuzzOne(data, size); });
  return 0;
}
