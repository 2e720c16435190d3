// libFuzzer target: the JSON request parsing of the network faces.
//
// Input: one flag byte, then the JSON text of a request body / tool arguments.
//   flag bit 0: the caller holds the read role only (else write) on the space "fuzz"
//   flag bit 1: do not fill in "space" (else "space":"fuzz" is added when absent)
//   flag bits 2-7: which operation ops::Call runs by name (as POST /v1/ops/{op} and the
//   Python package do), past the table's end an unknown name
// The text goes through util::ParseJson and every request parser of util/json_codec.h
// (search, message, memory input, update, list, and the export forms with their
// round trip), then, as `args`, through ops::AddMemory, Search, ListMemories and
// UpdateMemory against a real Engine (opened once, in a temp dir, holding a few
// memories), so argument validation and authorization run on hostile input.
//
// Invariants: no crash, exception, leak or UB; every error carries a non-empty message
// (and a code and an HTTP status that the error contract lists); a read-only caller
// never adds or updates; what parses re-serializes losslessly.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "server/auth.h"
#include "server/errors.h"
#include "server/limits.h"
#include "server/ops.h"
#include "util/json_codec.h"

namespace mnemo::fuzz {
namespace {

using util::Json;

constexpr char kSpace[] = "fuzz";

struct World {
  TempEngine engine{kSpace};
  server::Limits limits;
  server::Principal writer;
  server::Principal reader;
};
World* world = nullptr;

void CheckStatus(const Status& s, const char* where) {
  FUZZ_CHECK(!s.ok(), std::string(where) + ": error Result with an OK status");
  FUZZ_CHECK(!s.message().empty(), std::string(where) + ": error without a message");
  // The field a parse error names appears in its message ("kinds" names the list an
  // unknown kind is in).
  const std::string& field = s.field();
  FUZZ_CHECK(field.empty() || s.message().find(field) != std::string::npos || field == "kinds",
             std::string(where) + ": field \"" + field + "\" not in \"" + s.message() + "\"");
}

template <typename T>
void CheckResult(const Result<T>& r, const char* where) {
  if (!r.ok()) CheckStatus(r.status(), where);
}

void CheckApiError(const server::ApiError& e, const char* where) {
  static constexpr int kStatuses[] = {400, 401, 403, 404, 405, 408, 409,
                                      413, 415, 422, 429, 431, 500, 503};
  bool known = false;
  for (int s : kStatuses) known |= e.http_status == s;
  FUZZ_CHECK(known,
             std::string(where) + ": unexpected HTTP status " + std::to_string(e.http_status));
  FUZZ_CHECK(!e.code.empty(), std::string(where) + ": error without a code");
  FUZZ_CHECK(!e.message.empty(), std::string(where) + ": error without a message (" + e.code + ")");
  // The error JSON is what the faces send: it must serialize.
  const Json j = server::ErrorJson(e);
  FUZZ_CHECK(j.contains("error") && j["error"].is_object(), "ErrorJson shape");
  FUZZ_CHECK(util::ParseJson(util::DumpJson(j)).ok(), "ErrorJson does not round-trip");
}

// The util parsers of request bodies (what REST and batch search call).
void FuzzParsers(const Json& j) {
  CheckResult(util::SearchRequestFromJson(j), "SearchRequestFromJson");
  CheckResult(util::MessageFromJson(j), "MessageFromJson");
  CheckResult(util::MemoryInputFromJson(j), "MemoryInputFromJson");
  CheckResult(util::MemoryUpdateFromJson(j), "MemoryUpdateFromJson");
  CheckResult(util::ListRequestFromJson(j), "ListRequestFromJson");
  CheckResult(util::HistoryFromJson(j), "HistoryFromJson");
  CheckResult(util::LinkFromJson(j), "LinkFromJson");
  if (j.is_object()) {
    CheckResult(util::GetMemoryId(j, "id"), "GetMemoryId");
    CheckResult(util::GetTime(j, "time"), "GetTime");
    CheckResult(util::GetString(j, "text", true), "GetString");
  }

  // The export form is lossless: once through the codec, a memory is a fixed point.
  auto m = util::MemoryFromJson(j);
  CheckResult(m, "MemoryFromJson");
  if (m.ok()) {
    const Json j1 = util::MemoryToJson(*m);
    auto m2 = util::MemoryFromJson(j1);
    FUZZ_CHECK(m2.ok(), "MemoryToJson output rejected by MemoryFromJson: " + m2.status().message() +
                            " in " + util::DumpJson(j1));
    const Json j2 = util::MemoryToJson(*m2);
    FUZZ_CHECK(j1 == j2, "memory JSON round trip is lossy: " + util::DumpJson(j1) + " vs " +
                             util::DumpJson(j2));
  }
  auto l = util::LinkFromJson(j);
  if (l.ok()) {
    auto l2 = util::LinkFromJson(util::LinkToJson(*l));
    FUZZ_CHECK(l2.ok() && util::LinkToJson(*l2) == util::LinkToJson(*l), "link round trip");
  }
}

void CheckOp(const std::string& name, server::ApiResult<Json> r, bool must_fail) {
  if (Verbose()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(),
                 r.ok() ? util::DumpJson(r.value()).substr(0, 300).c_str()
                        : util::DumpJson(server::ErrorJson(r.error())).c_str());
  }
  if (!r.ok()) {
    CheckApiError(r.error(), name.c_str());
    return;
  }
  FUZZ_CHECK(!must_fail, name + " succeeded for a read-only caller");
  // Answers are sent as JSON text: they must serialize and parse back.
  const Json& value = r.value();
  FUZZ_CHECK(value.is_object() || (name == "export" && value.is_string()),
             name + " answered a non-object");
  FUZZ_CHECK(util::ParseJson(util::DumpJson(value)).ok(), std::string(name) + " answer");
}

// The operations a read-only caller may run.
bool Reads(std::string_view op) {
  for (std::string_view r :
       {"list_spaces", "get_space", "get_memory", "list_memories", "memory_history", "memory_links",
        "search", "list_jobs", "job_stats", "get_profile", "build_context", "export"}) {
    if (op == r) return true;
  }
  return false;
}

void FuzzOps(Json args, bool read_only, bool fill_space, uint8_t pick) {
  if (fill_space && args.is_object() && !args.contains("space")) args["space"] = kSpace;
  const server::Principal& p = read_only ? world->reader : world->writer;
  const server::ops::Context ctx{world->engine.engine(), p, world->limits, "fuzz"};
  CheckOp("ops::Search", server::ops::Search(ctx, args), false);
  CheckOp("ops::ListMemories", server::ops::ListMemories(ctx, args), false);
  CheckOp("ops::UpdateMemory", server::ops::UpdateMemory(ctx, args), read_only);
  CheckOp("ops::AddMemory", server::ops::AddMemory(ctx, args), read_only);
  const auto table = server::ops::Operations();
  const size_t i = pick % (table.size() + 1);
  const std::string op = i < table.size() ? std::string(table[i].name) : "no_such_op";
  auto r = server::ops::Call(ctx, op, args);
  FUZZ_CHECK(op != "no_such_op" || (!r.ok() && r.error().field == "op"), "unknown op accepted");
  CheckOp(op, std::move(r), read_only && !Reads(op));
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto parsed = util::ParseJson(text);
  CheckResult(parsed, "ParseJson");
  // Metadata normalization takes raw text too.
  auto meta = util::NormalizeMetadata(text, 16 * 1024);
  CheckResult(meta, "NormalizeMetadata");
  if (meta.ok()) {
    auto again = util::NormalizeMetadata(*meta, 16 * 1024);
    FUZZ_CHECK(again.ok() && *again == *meta, "NormalizeMetadata is not idempotent");
  }
  if (!parsed.ok()) return;
  const Json& j = *parsed;
  // What parses serializes and parses back to the same value.
  auto back = util::ParseJson(util::DumpJson(j));
  FUZZ_CHECK(back.ok() && *back == j, "ParseJson(DumpJson(j)) != j");

  FuzzParsers(j);
  FuzzOps(j, (flags & 1) != 0, (flags & 2) == 0, static_cast<uint8_t>(flags >> 2));
}

}  // namespace
}  // namespace mnemo::fuzz

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  using namespace mnemo;
  static fuzz::World w;
  fuzz::world = &w;
  w.writer.key_id = "fuzz-writer";
  w.writer.spaces.emplace(fuzz::kSpace, server::Role::kWrite);
  w.reader.key_id = "fuzz-reader";
  w.reader.spaces.emplace(fuzz::kSpace, server::Role::kRead);
  // A few memories, so that updates, lists and searches find something (ids 1..3, as the
  // clock is frozen at 0).
  const server::ops::Context ctx{w.engine.engine(), w.writer, w.limits, "fuzz"};
  for (const char* text : {"Maya is allergic to peanuts", "Maya moved to Lisbon in March 2024",
                           "Tom prefers tea over coffee"}) {
    util::Json args = {{"space", fuzz::kSpace},
                       {"text", text},
                       {"user", text[0] == 'M' ? "maya" : "tom"},
                       {"kind", "fact"},
                       {"tags", {"seed"}}};
    auto r = server::ops::AddMemory(ctx, args);
    if (!r.ok()) fuzz::Fail(__FILE__, __LINE__, "seed AddMemory", r.error().message);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mnemo::fuzz::NoThrow("JSON request parsing", [&] { mnemo::fuzz::FuzzOne(data, size); });
  return 0;
}
