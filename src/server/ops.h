// The operations of the network faces: one function per thing a client can do, shared
// by REST (rest.cc builds `args` from the path, query and body) and MCP (mcp.cc passes
// a tool call's arguments). Each operation validates its arguments (unknown fields are
// an error naming them), checks the principal's role on the space, calls the Engine,
// and returns the JSON answer or an ApiError. No face holds logic of its own.
//
// Thread safety: every operation may run concurrently (the Engine is thread-safe).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "mnemo/engine.h"
#include "server/auth.h"
#include "server/errors.h"
#include "server/limits.h"
#include "util/json_codec.h"

namespace mnemo::server {
class KeyStore;
}  // namespace mnemo::server

namespace mnemo::server::ops {

using util::Json;

struct Context {
  Engine& engine;
  const Principal& principal;
  const Limits& limits;
  std::string actor;         // recorded in history: "http:<key id>", "mcp:<key id>", "http" ...
  KeyStore* keys = nullptr;  // the server's API keys (key operations); null elsewhere
};

// API keys (key_ops.cc): admin on "*". {} -> {"keys": [...]}; {"name", "grants": {space:
// role}} -> the key with its secret ("key", shown once); {"id"} -> the revoked key.
ApiResult<Json> ListKeys(const Context& c, const Json& args);
ApiResult<Json> CreateKey(const Context& c, const Json& args);
ApiResult<Json> RevokeKey(const Context& c, const Json& args);

// Spaces.
ApiResult<Json> ListSpaces(const Context& c, const Json& args);   // {} -> {"spaces":[...]}
ApiResult<Json> CreateSpace(const Context& c, const Json& args);  // {"name"}
ApiResult<Json> GetSpace(const Context& c, const Json& args);     // {"space"} -> stats
ApiResult<Json> DropSpace(const Context& c, const Json& args);    // {"space"}

// Memories. `args` always carries "space"; memory fields use the names of
// util::MemoryToJson (text, user, agent, session, kind, role, speaker, time, valid_from,
// valid_to, importance, tags, entities, meta, sources).
ApiResult<Json> AddMemory(const Context& c, const Json& args);
ApiResult<Json> AddMemories(const Context& c, const Json& args);  // {"space","memories":[...]}
// {"space","id","reveal"}: reveal (admin) puts the text's secrets back.
ApiResult<Json> GetMemory(const Context& c, const Json& args);
ApiResult<Json> ListMemories(const Context& c, const Json& args);
ApiResult<Json> UpdateMemory(const Context& c, const Json& args);
ApiResult<Json> DeleteMemory(const Context& c,
                             const Json& args);  // {"space","id","reason","purge"}
ApiResult<Json> MemoryHistory(const Context& c, const Json& args);
ApiResult<Json> MemoryLinks(const Context& c, const Json& args);
// The memory and, breadth first, the memories it was derived from, down to episodes:
// {"id", "provenance": [memory fields + "depth" (+ "derived_into")]}.
ApiResult<Json> MemoryProvenance(const Context& c, const Json& args);  // {"space","id"}

// Conversations and search.
ApiResult<Json> Ingest(const Context& c, const Json& args);  // {"space","user","messages":[...]}
ApiResult<Json> Search(const Context& c, const Json& args);  // {"space", search request fields}

// The background pipeline's jobs (docs/pipeline.md).
ApiResult<Json> ListUsers(const Context& c, const Json& args);  // {"space","cursor","limit"}
ApiResult<Json> ListJobs(const Context& c, const Json& args);   // {"space","state","limit"}
ApiResult<Json> RetryJobs(const Context& c, const Json& args);  // {"space","id"|"all":true}
ApiResult<Json> JobStats(const Context& c, const Json& args);   // {"space"}
// One lifecycle maintenance pass now (write role): the MaintenanceReport.
ApiResult<Json> Maintain(const Context& c, const Json& args);  // {"space"}

// A user's profile (core memory) and prompt-ready context (docs/lifecycle.md); the engine
// checks their ranges (mnemo/engine.h: kMaxProfileEntries, kMaxContextBudget, ...).
ApiResult<Json> GetProfile(const Context& c, const Json& args);    // {"space","user","limit"}
ApiResult<Json> EditProfile(const Context& c, const Json& args);   // {"space", ProfileEdit fields}
ApiResult<Json> BuildContext(const Context& c, const Json& args);  // {"space", ContextRequest ...}

// Lossless JSONL export of a space, or with "user" of one user's memories, history and
// links (read role; a key bound to one end user exports that user's).
ApiResult<std::string> Export(const Context& c, const Json& args);  // {"space","user"}
// A data-subject erasure (admin role): every memory, history row, link, index entry and
// job of the user. {"space","user","reason"} -> {"user","erased","memories","jobs"}
ApiResult<Json> EraseUser(const Context& c, const Json& args);
// Imports an export (Export's text) into a space, created if missing, in one transaction
// (admin role: it writes ids and history as they were): {"memories","history","links"}.
ApiResult<Json> ImportSpace(const Context& c, const Json& args);  // {"space","export"}

// Soft-deletes every active memory of one user, agent or session (narrowed by "filters"),
// in one transaction (write role): at least
// one of "user", "agent", "session" is required, so a space is never emptied by omission.
// {"space","user","agent","session","filters","reason"} -> {"deleted": n}
ApiResult<Json> DeleteMemories(const Context& c, const Json& args);

// Every operation by its name (snake_case): the embedded Python package calls them so.
using OpFn = ApiResult<Json> (*)(const Context&, const Json&);
struct Operation {
  std::string_view name;
  OpFn fn;
};
std::span<const Operation> Operations();
// Runs the operation `name`; an unknown name is a 422 naming the field "op". Export's
// JSONL comes back as one JSON string.
ApiResult<Json> Call(const Context& c, std::string_view name, const Json& args);

}  // namespace mnemo::server::ops
