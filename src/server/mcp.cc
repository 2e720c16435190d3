#include "server/mcp.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <utility>

#include "server/errors.h"
#include "server/ops.h"

namespace mnemo::server {
namespace {

using util::Json;

// The first version whose JSON-RPC layer has no batches.
constexpr std::string_view kFirstVersionWithoutBatches = "2025-06-18";

constexpr std::string_view kInstructions =
    "mnemo is your long-term memory: it keeps what users said and did across conversations "
    "and recalls it in milliseconds.\n"
    "Model: memories live in spaces (isolated stores){DEFAULT}. Every memory belongs to one "
    "user (the person it is about; use a stable user id) and has a kind: episode (something "
    "said or done, with a time), fact, preference, procedure (how-to or lesson learned) or "
    "summary.\n"
    "How to use it:\n"
    "- At the start of a turn, call get_context with the user id and the user's message: it "
    "returns a prompt-ready block (what is known about the user, then the relevant memories "
    "with absolute dates) within a token budget. get_profile lists the user's standing facts "
    "and preferences one slot at a time.\n"
    "- Before answering anything that may depend on earlier conversations or on what you "
    "know about the user, call search_memory with a short natural-language query and the "
    "user id. Answer from the results and give absolute dates when time matters.\n"
    "- When the user states a lasting fact, preference or instruction, save it with "
    "add_memory as one self-contained sentence (\"Maya is allergic to peanuts\") with kind "
    "fact, preference or procedure. To keep the conversation itself, send its messages with "
    "ingest_conversation.\n"
    "- When a stored memory is wrong or out of date, call update_memory on its id instead of "
    "adding a duplicate; the old version stays in memory_history. Call delete_memory only "
    "when asked to forget something: it retires the memory (purge: true erases its text "
    "everywhere and needs the admin role).\n"
    "- Ids are integers returned by add_memory, search_memory and list_memories. Times are "
    "ISO 8601 (\"2024-05-08\" or \"2024-05-08T13:56:07Z\"; no zone means UTC).\n"
    "- In a space that holds several users, search_memory needs \"user\" or \"all_users\": "
    "true.\n"
    "- search_memory and list_memories narrow with \"filters\": {\"tags\": \"work\"}, "
    "{\"created_at\": {\"gte\": \"2024-07-01\"}}, {\"metadata.amount\": {\"gt\": 50}}, "
    "combined with AND / OR / NOT; operators eq, ne, gt, gte, lt, lte, in, nin, contains, "
    "icontains.\n"
    "- A failed call returns isError: true and {\"error\": {\"code\", \"message\", "
    "\"field\"}}: fix what the message names and call again.";

using OpFn = ApiResult<Json> (*)(const ops::Context&, const Json&);

// One user's lossless export (never a whole space's here): {"result": "<JSON lines>"}.
ApiResult<Json> ExportUser(const ops::Context& c, const Json& args) {
  if (args.is_object() && (!args.contains("user") || args["user"].is_null())) {
    if (c.principal.user.empty()) return Invalid("missing required field \"user\"", "user");
  }
  return ops::Call(c, "export", args);
}

struct ToolDef {
  std::string_view name;
  OpFn op;
  bool takes_space;  // the tool works on one space: a default space is filled in
};

constexpr std::array<ToolDef, 16> kTools = {{
    {"add_memory", &ops::AddMemory, true},
    {"ingest_conversation", &ops::Ingest, true},
    {"search_memory", &ops::Search, true},
    {"get_memory", &ops::GetMemory, true},
    {"list_memories", &ops::ListMemories, true},
    {"update_memory", &ops::UpdateMemory, true},
    {"delete_memory", &ops::DeleteMemory, true},
    {"memory_history", &ops::MemoryHistory, true},
    {"list_spaces", &ops::ListSpaces, false},
    {"create_space", &ops::CreateSpace, false},
    {"list_jobs", &ops::ListJobs, true},
    {"job_stats", &ops::JobStats, true},
    {"get_profile", &ops::GetProfile, true},
    {"get_context", &ops::BuildContext, true},
    {"export_user", &ExportUser, true},
    {"erase_user", &ops::EraseUser, true},
}};

const ToolDef* FindTool(std::string_view name) {
  for (const auto& t : kTools) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// --- tool schemas ------------------------------------------------------------------

// Schemas of one property. An empty description is left out: tools/list goes into every
// agent's context, so a property whose name says it all ("agent", "tags") carries none.
Json Described(Json schema, std::string description) {
  if (!description.empty()) schema["description"] = std::move(description);
  return schema;
}
Json Str(std::string description = "") {
  return Described({{"type", "string"}}, std::move(description));
}
Json NonEmptyStr(std::string description = "") {
  return Described({{"type", "string"}, {"minLength", 1}}, std::move(description));
}
Json Bool(std::string description) {
  return Described({{"type", "boolean"}}, std::move(description));
}
Json StrArray(std::string description = "") {
  return Described({{"type", "array"}, {"items", {{"type", "string"}}}}, std::move(description));
}
// ISO 8601 ("2024-05-08", "2024-05-08T13:56", "...:07Z"; no zone means UTC), as the
// server instructions say once rather than every field.
Json Time(std::string description) { return Str(std::move(description)); }
Json NullableTime(std::string description) {
  Json t = Time(std::move(description) + "; null: none");
  t["type"] = Json::array({"string", "null"});
  return t;
}
Json KindEnum() { return Json::array({"episode", "fact", "preference", "procedure", "summary"}); }
Json Kind(std::string description) {
  return Described({{"type", "string"}, {"enum", KindEnum()}}, std::move(description));
}
Json Kinds() {
  return {{"type", "array"},
          {"items", {{"type", "string"}, {"enum", KindEnum()}}},
          {"uniqueItems", true}};
}
Json Meta(std::string description = "") {
  return Described({{"type", "object"}}, std::move(description));
}
Json Id() { return {{"type", "integer"}, {"minimum", 1}}; }
Json Importance(std::string description = "default 0.5") {
  return Described({{"type", "number"}, {"minimum", 0}, {"maximum", 1}}, std::move(description));
}

struct SchemaBuilder {
  const std::string& default_space;

  // A plain string: the operation checks the name (and says what is wrong), and a pattern
  // on every tool would cost the list ~0.6 KB. The default space, when there is one, is
  // named once in the instructions, not here.
  static Json Space() { return {{"type", "string"}}; }

  // {"type":"object", properties, required, additionalProperties:false}, with "space"
  // first in the properties and in `required` when there is no default.
  Json Object(Json properties, std::vector<std::string> required, bool with_space = true) const {
    Json props = Json::object();
    Json req = Json::array();
    if (with_space) {
      props["space"] = Space();
      if (default_space.empty()) req.push_back("space");
    }
    for (auto it = properties.begin(); it != properties.end(); ++it) props[it.key()] = it.value();
    for (auto& r : required) req.push_back(std::move(r));
    Json o = {{"type", "object"}, {"properties", std::move(props)}};
    if (!req.empty()) o["required"] = std::move(req);
    o["additionalProperties"] = false;
    return o;
  }
};

// The tool's title is its top-level "title" (MCP 2025-06-18), not repeated here.
// Hints at their MCP defaults (readOnly false, destructive true, idempotent false) are
// left out, and openWorld (every tool here is closed-world: it only touches this store).
Json Annotations(bool read_only, bool destructive, bool idempotent) {
  Json a = Json::object();
  if (read_only) {
    a["readOnlyHint"] = true;
  } else {
    if (!destructive) a["destructiveHint"] = false;
    if (idempotent) a["idempotentHint"] = true;
  }
  return a;
}

// `title` is for people reading this source; tools/list leaves it out (the name says as
// much, and the list goes into every agent's context).
Json Tool(std::string_view name, std::string_view /*title*/, std::string description,
          Json input_schema, Json annotations) {
  Json tool = {{"name", name},
               {"description", std::move(description)},
               {"inputSchema", std::move(input_schema)}};
  if (!annotations.empty()) tool["annotations"] = std::move(annotations);
  return tool;
}

// The filters shared by search_memory and list_memories.
Json FilterProperties(bool for_search) {
  Json p = {
      {"user", NonEmptyStr()},
      {"agent", Str()},
      {"session", Str()},
      {"kinds", Kinds()},
      {"filters", {{"type", "object"}, {"description", "AND/OR/NOT of {field: {op: value}}"}}},
      {"include_retired", Bool("also deleted")},
  };
  if (for_search) {
    p["all_users"] = Bool("instead of user");
    p["exclude_labels"] = StrArray();  // sensitivity labels to leave out
  } else {
    // To review what was quarantined (search leaves it out: the list stays small).
    p["quarantined"] = {{"type", "string"}, {"enum", {"exclude", "include", "only"}}};
  }
  return p;
}

Json BuildTools(const Limits& limits, const std::string& default_space) {
  const SchemaBuilder s{default_space};
  Json tools = Json::array();

  tools.push_back(
      Tool("add_memory", "Add a memory",
           "Store a memory about a user as one self-contained sentence (\"Maya moved to Lisbon "
           "in 2024\").",
           s.Object(
               {
                   {"text", NonEmptyStr()},
                   {"user", NonEmptyStr()},
                   {"kind", Kind("default episode")},
                   {"agent", Str()},
                   {"session", Str()},
                   {"role", Str()},
                   {"speaker", Str()},
                   {"time", Time("default now")},
                   {"ttl", {{"type", "string"}, {"description", "e.g. 90d"}}},
                   {"importance", Importance()},
                   {"tags", StrArray()},
                   {"meta", Meta()},
                   {"origin", {{"type", "string"}, {"enum", {"user", "assistant", "tool", "web"}}}},
               },
               {"text", "user"}),
           Annotations(false, false, false)));

  Json message = {
      {"type", "object"},
      {"properties",
       {
           {"text", NonEmptyStr()},
           {"role", Str("or speaker")},
           {"speaker", Str()},
           {"agent", Str()},
           {"session", Str()},
           {"time", Time("default now")},
           {"meta", Meta()},
       }},
      {"required", {"text"}},
      {"additionalProperties", false},
  };
  tools.push_back(
      Tool("ingest_conversation", "Store conversation messages",
           "Store a conversation's messages in order; facts are derived in the background.",
           s.Object({{"user", NonEmptyStr()},
                     {"messages",
                      {{"type", "array"},
                       {"minItems", 1},
                       {"maxItems", limits.max_batch},
                       {"items", message},
                       {"description", "oldest first"}}}},
                    {"user", "messages"}),
           Annotations(false, false, false)));

  Json search_props = FilterProperties(true);
  search_props["now"] = Time("for \"last week\" etc.");
  search_props["query"] = NonEmptyStr();
  search_props["k"] = {{"type", "integer"},
                       {"minimum", 1},
                       {"maximum", limits.max_k},
                       {"description", "default 10"}};
  tools.push_back(Tool("search_memory", "Search memories",
                       "Recall the memories most relevant to a query, best first, as \"results\".",
                       s.Object(search_props, {"query"}), Annotations(true, false, true)));

  tools.push_back(Tool("get_memory", "Get a memory",
                       "Read one memory by id, with all of its fields.",
                       s.Object({{"id", Id()}}, {"id"}), Annotations(true, false, true)));

  Json list_props = FilterProperties(false);
  list_props["limit"] = {{"type", "integer"},
                         {"minimum", 1},
                         {"maximum", limits.max_list_limit},
                         {"description", "default 100"}};
  list_props["cursor"] = Str("next_cursor");
  list_props["descending"] = Bool("newest first");
  tools.push_back(Tool("list_memories", "List memories",
                       "Page through memories, oldest first (next_cursor \"\" at the end).",
                       s.Object(list_props, {}), Annotations(true, false, true)));

  tools.push_back(
      Tool("update_memory", "Update a memory",
           "Correct a wrong or outdated memory (instead of adding a duplicate); the old version "
           "stays in its history.",
           s.Object({{"id", Id()},
                     {"text", NonEmptyStr()},
                     {"kind", Kind("")},
                     {"time", NullableTime("event time")},
                     {"expires_at", NullableTime("forget at")},
                     {"importance", Importance("")},
                     {"tags", StrArray()},
                     {"meta", Meta()},
                     {"quarantined", Bool("")},
                     {"reason", Str()}},
                    {"id"}),
           Annotations(false, false, false)));

  tools.push_back(
      Tool("delete_memory", "Delete a memory",
           "Forget a memory when asked to (kept in its history); purge erases it everywhere "
           "(admin).",
           s.Object({{"id", Id()}, {"reason", Str()}, {"purge", Bool("")}}, {"id"}),
           Annotations(false, true, false)));

  tools.push_back(Tool("memory_history", "Memory history",
                       "A memory's versions, oldest first, with who changed it and why.",
                       s.Object({{"id", Id()}}, {"id"}), Annotations(true, false, true)));

  tools.push_back(Tool("list_spaces", "List spaces",
                       "The spaces this caller may read, with their number of memories.",
                       s.Object(Json::object(), {}, /*with_space=*/false),
                       Annotations(true, false, true)));
  tools.push_back(Tool("create_space", "Create a space",
                       "Create a space (admin role); the other tools name it in \"space\".",
                       s.Object({{"name", SchemaBuilder::Space()}}, {"name"}, /*with_space=*/false),
                       Annotations(false, false, false)));
  tools.push_back(Tool("list_jobs", "List pipeline jobs",
                       "Background jobs that derive facts: why derived memories are late.",
                       s.Object({{"state",
                                  {
                                      {"type", "string"},
                                      {"enum", {"pending", "done", "dead"}},
                                  }},
                                 {"limit",
                                  {{"type", "integer"},
                                   {"minimum", 1},
                                   {"maximum", limits.max_list_limit},
                                   {"description", "default 50"}}}},
                                {}),
                       Annotations(true, false, true)));

  tools.push_back(Tool("job_stats", "Pipeline statistics",
                       "Pipeline progress: jobs, turns, derived memories, tokens.",
                       s.Object(Json::object(), {}), Annotations(true, false, true)));

  tools.push_back(Tool(
      "get_profile", "Get a user's profile",
      "A user at a glance: the current value of each profile slot (city, job, allergies, "
      "likes, ...).",
      s.Object(
          {{"user", NonEmptyStr()},
           {"limit",
            {{"type", "integer"},
             {"minimum", 1},
             {"maximum", kMaxProfileEntries},
             {"description", "entries (default " + std::to_string(kMaxProfileEntries) + ")"}}}},
          {"user"}),
      Annotations(true, false, true)));

  tools.push_back(Tool("get_context", "Get context for a turn",
                       "Call at the start of a turn: what is known about the user that is relevant "
                       "to what they said, as prompt-ready \"text\".",
                       s.Object({{"user", NonEmptyStr()},
                                 {"query", NonEmptyStr("what the user said")},
                                 {"budget",
                                  {{"type", "integer"},
                                   {"minimum", kMinContextBudget},
                                   {"maximum", kMaxContextBudget},
                                   {"description", "tokens (default 1500)"}}},
                                 {"now", Time("default now")},
                                 {"k",
                                  {{"type", "integer"},
                                   {"minimum", 1},
                                   {"maximum", kMaxContextK},
                                   {"description", "default 30"}}},
                                 {"exclude_labels", StrArray()}},
                                {"user", "query"}),
                       Annotations(true, false, true)));
  tools.push_back(Tool("export_user", "Export a user's data",
                       "One user's memories, history and links as lossless JSON lines.",
                       s.Object({{"user", NonEmptyStr()}}, {"user"}),
                       Annotations(true, false, true)));
  tools.push_back(Tool("erase_user", "Erase a user",
                       "Only when the user asks: erases all of the user's data, irreversibly "
                       "(admin).",
                       s.Object({{"user", NonEmptyStr()}, {"reason", Str()}}, {"user"}),
                       Annotations(false, true, true)));
  return Json{{"tools", std::move(tools)}};
}

// --- JSON-RPC ------------------------------------------------------------------------

Json Success(const Json& id, Json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

bool IsValidId(const Json& id) { return id.is_string() || id.is_number(); }

bool BatchesRemoved(std::string_view version) {
  return !version.empty() && version >= kFirstVersionWithoutBatches;
}

Json ToolResult(Json value) {
  if (!value.is_object()) value = Json{{"result", std::move(value)}};
  Json text = {{"type", "text"}, {"text", util::DumpJson(value)}};
  return {{"content", Json::array({std::move(text)})},
          {"structuredContent", std::move(value)},
          {"isError", false}};
}

Json ToolError(const ApiError& e) {
  Json text = {{"type", "text"}, {"text", util::DumpJson(ErrorJson(e))}};
  return {{"content", Json::array({std::move(text)})}, {"isError", true}};
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

McpServer::McpServer(Engine& engine, Limits limits, std::string default_space, std::string name,
                     std::string version)
    : engine_(engine),
      limits_(limits),
      default_space_(std::move(default_space)),
      name_(std::move(name)),
      version_(std::move(version)),
      tools_(BuildTools(limits_, default_space_)) {}

const std::vector<std::string>& McpServer::SupportedProtocolVersions() {
  static const std::vector<std::string> versions = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                    "2024-11-05", "2024-10-07"};
  return versions;
}

bool McpServer::IsSupportedProtocolVersion(std::string_view version) {
  const auto& v = SupportedProtocolVersions();
  return std::find(v.begin(), v.end(), version) != v.end();
}

Json McpServer::ErrorResponse(const Json& id, int code, std::string_view message) {
  return {{"jsonrpc", "2.0"},
          {"id", id},
          {"error", {{"code", code}, {"message", std::string(message)}}}};
}

std::optional<std::string> McpServer::HandleMessage(std::string_view json_text,
                                                    const Principal& principal,
                                                    std::string_view actor,
                                                    const McpMessageOptions& options) const {
  auto parsed = util::ParseJson(json_text);
  if (!parsed.ok()) {
    return util::DumpJson(
        ErrorResponse(nullptr, kJsonRpcParseError, "parse error: " + parsed.status().message()));
  }
  auto response = HandleJson(*parsed, principal, actor, options);
  if (!response) return std::nullopt;
  return util::DumpJson(*response);
}

std::optional<Json> McpServer::HandleJson(const Json& message, const Principal& principal,
                                          std::string_view actor,
                                          const McpMessageOptions& options) const {
  auto one = [&](const Json& msg, bool in_batch) -> std::optional<Json> {
    if (!msg.is_object()) {
      return ErrorResponse(nullptr, kJsonRpcInvalidRequest,
                           "a JSON-RPC message must be a JSON object");
    }
    const auto id_it = msg.find("id");
    const bool has_id = id_it != msg.end();
    const Json id = has_id && IsValidId(*id_it) ? *id_it : Json(nullptr);
    const auto version = msg.find("jsonrpc");
    if (version == msg.end() || *version != "2.0") {
      return ErrorResponse(id, kJsonRpcInvalidRequest, "\"jsonrpc\" must be \"2.0\"");
    }
    const auto method = msg.find("method");
    if (method == msg.end()) {
      // A response to a request of ours: we send none, so there is nothing to match.
      if (has_id && (msg.contains("result") || msg.contains("error"))) return std::nullopt;
      return ErrorResponse(id, kJsonRpcInvalidRequest,
                           "a JSON-RPC message needs a \"method\" (or \"result\" or \"error\" "
                           "with an \"id\" for a response)");
    }
    if (!method->is_string()) {
      return ErrorResponse(id, kJsonRpcInvalidRequest, "\"method\" must be a string");
    }
    const auto params = msg.find("params");
    if (params != msg.end() && !params->is_object() && !params->is_array()) {
      return ErrorResponse(id, kJsonRpcInvalidRequest, "\"params\" must be an object");
    }
    // Notifications (initialized, cancelled, progress, roots changed ...) need no answer,
    // and the server keeps no state they could change.
    if (!has_id) return std::nullopt;
    if (!IsValidId(*id_it)) {
      return ErrorResponse(nullptr, kJsonRpcInvalidRequest, "\"id\" must be a string or a number");
    }
    const std::string& name = method->get_ref<const std::string&>();
    if (in_batch && name == "initialize") {
      return ErrorResponse(id, kJsonRpcInvalidRequest,
                           "initialize must not be part of a JSON-RPC batch");
    }
    static const Json kNoParams = Json::object();
    return HandleRequest(id, name, params == msg.end() ? kNoParams : *params, principal, actor);
  };

  if (!message.is_array()) return one(message, false);
  if (BatchesRemoved(options.protocol_version)) {
    return ErrorResponse(nullptr, kJsonRpcInvalidRequest,
                         "JSON-RPC batches are not part of MCP protocol version " +
                             options.protocol_version + "; send one message at a time");
  }
  if (message.empty()) {
    return ErrorResponse(nullptr, kJsonRpcInvalidRequest, "empty JSON-RPC batch");
  }
  Json responses = Json::array();
  for (const auto& msg : message) {
    if (auto r = one(msg, true)) responses.push_back(std::move(*r));
  }
  if (responses.empty()) return std::nullopt;
  return responses;
}

Json McpServer::HandleRequest(const Json& id, const std::string& method, const Json& params,
                              const Principal& principal, std::string_view actor) const {
  if (!params.is_object()) {
    return ErrorResponse(id, kJsonRpcInvalidParams, "MCP \"params\" must be an object");
  }
  try {
    if (method == "initialize") return Initialize(id, params);
    if (method == "ping") return Success(id, Json::object());
    if (method == "tools/list") {
      // One page holds every tool, so no cursor was ever issued.
      if (params.contains("cursor")) {
        return ErrorResponse(id, kJsonRpcInvalidParams, "invalid cursor: tools/list has one page");
      }
      return Success(id, tools_);
    }
    if (method == "tools/call") return CallTool(id, params, principal, actor);
    return ErrorResponse(id, kJsonRpcMethodNotFound, "method not found: " + method);
  } catch (const std::exception& e) {
    return ErrorResponse(id, kJsonRpcInternalError, std::string("internal error: ") + e.what());
  }
}

Json McpServer::Initialize(const Json& id, const Json& params) const {
  const auto requested = params.find("protocolVersion");
  if (requested == params.end() || !requested->is_string()) {
    return ErrorResponse(id, kJsonRpcInvalidParams,
                         "initialize needs \"protocolVersion\" (a string such as \"" +
                             SupportedProtocolVersions().front() + "\")");
  }
  for (const char* key : {"capabilities", "clientInfo"}) {
    const auto v = params.find(key);
    if (v != params.end() && !v->is_object()) {
      return ErrorResponse(id, kJsonRpcInvalidParams,
                           std::string("initialize: \"") + key + "\" must be an object");
    }
  }
  const std::string& asked = requested->get_ref<const std::string&>();
  const std::string& version =
      IsSupportedProtocolVersion(asked) ? asked : SupportedProtocolVersions().front();
  std::string instructions(kInstructions);
  const std::string marker = "{DEFAULT}";
  instructions.replace(instructions.find(marker), marker.size(),
                       default_space_.empty()
                           ? "; name the space in every call (list_spaces shows them)"
                           : "; this server's default space is \"" + default_space_ +
                                 "\", used when a call names none");
  return Success(id,
                 {{"protocolVersion", version},
                  {"capabilities", {{"tools", {{"listChanged", false}}}}},
                  {"serverInfo",
                   {{"name", name_}, {"title", "mnemo long-term memory"}, {"version", version_}}},
                  {"instructions", std::move(instructions)}});
}

Json McpServer::CallTool(const Json& id, const Json& params, const Principal& principal,
                         std::string_view actor) const {
  const auto name = params.find("name");
  if (name == params.end() || !name->is_string()) {
    return ErrorResponse(id, kJsonRpcInvalidParams, "tools/call needs \"name\" (a string)");
  }
  const ToolDef* tool = FindTool(name->get_ref<const std::string&>());
  if (tool == nullptr) {
    return ErrorResponse(id, kJsonRpcInvalidParams,
                         "unknown tool: " + name->get<std::string>() + " (see tools/list)");
  }
  Json args = Json::object();
  if (const auto a = params.find("arguments"); a != params.end() && !a->is_null()) {
    if (!a->is_object()) {
      return ErrorResponse(id, kJsonRpcInvalidParams,
                           "tools/call: \"arguments\" must be an object");
    }
    args = *a;
  }
  if (tool->takes_space && !default_space_.empty() && !args.contains("space")) {
    args["space"] = default_space_;
  }
  const ops::Context ctx{engine_, principal, limits_, std::string(actor)};
  ApiResult<Json> r = tool->op(ctx, args);
  if (!r.ok()) return Success(id, ToolError(r.error()));
  return Success(id, ToolResult(std::move(r).value()));
}

bool IsLoopbackOrigin(std::string_view origin) {
  const std::string o = Lower(origin);
  std::string_view rest = o;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return false;
  }
  std::string_view host;
  for (std::string_view h : {"localhost", "127.0.0.1", "[::1]"}) {
    if (rest.starts_with(h)) host = h;
  }
  if (host.empty()) return false;
  rest.remove_prefix(host.size());
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
  rest.remove_prefix(1);
  return std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

namespace {

// The media type of a header value without parameters, lower-cased ("application/json").
std::string MediaType(std::string_view value) {
  std::string_view v = value.substr(0, value.find(';'));
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return Lower(v);
}

// True when an Accept header allows a JSON answer (or an event stream, which a client
// that lists it must also take JSON answers from, per the transport spec).
bool AcceptsMcpAnswer(std::string_view accept) {
  size_t start = 0;
  while (start <= accept.size()) {
    const size_t comma = std::min(accept.find(',', start), accept.size());
    const std::string type = MediaType(accept.substr(start, comma - start));
    if (type == "application/json" || type == "text/event-stream" || type == "application/*" ||
        type == "text/*" || type == "*/*") {
      return true;
    }
    start = comma + 1;
  }
  return false;
}

HttpResponse JsonRpcHttpError(int status, int code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.route = "/mcp";
  r.body = util::DumpJson(McpServer::ErrorResponse(nullptr, code, message));
  return r;
}

}  // namespace

HttpResponse HandleMcpHttp(const McpServer& server, const HttpRequest& request,
                           const Principal& principal, std::string_view actor) {
  HttpResponse r = [&]() -> HttpResponse {
    if (const std::string* origin = request.Header("origin");
        origin != nullptr && !IsLoopbackOrigin(*origin)) {
      return JsonRpcHttpError(403, kJsonRpcInvalidRequest,
                              "forbidden origin \"" + *origin +
                                  "\": the MCP endpoint accepts only pages served from "
                                  "localhost, 127.0.0.1 or [::1]");
    }
    if (request.method != "POST") {
      HttpResponse e = JsonRpcHttpError(
          405, kJsonRpcInvalidRequest,
          "method " + request.method +
              " not allowed: send JSON-RPC messages with POST (this server offers no SSE "
              "stream and no sessions)");
      e.headers.emplace_back("Allow", "POST");
      return e;
    }
    McpMessageOptions options;
    if (const std::string* v = request.Header("mcp-protocol-version"); v != nullptr) {
      if (!McpServer::IsSupportedProtocolVersion(*v)) {
        std::string supported;
        for (const auto& s : McpServer::SupportedProtocolVersions()) {
          supported += (supported.empty() ? "" : ", ") + s;
        }
        return JsonRpcHttpError(
            400, kJsonRpcInvalidRequest,
            "unsupported MCP-Protocol-Version \"" + *v + "\"; supported: " + supported);
      }
      options.protocol_version = *v;
    }
    const std::string* content_type = request.Header("content-type");
    if (content_type == nullptr || MediaType(*content_type) != "application/json") {
      return JsonRpcHttpError(415, kJsonRpcInvalidRequest,
                              "the body must be a JSON-RPC message with Content-Type: "
                              "application/json");
    }
    if (const std::string* accept = request.Header("accept");
        accept != nullptr && !AcceptsMcpAnswer(*accept)) {
      return JsonRpcHttpError(406, kJsonRpcInvalidRequest,
                              "the Accept header must allow application/json (MCP clients "
                              "send \"application/json, text/event-stream\")");
    }
    auto parsed = util::ParseJson(request.body);
    if (!parsed.ok()) {
      return JsonRpcHttpError(400, kJsonRpcParseError, "parse error: " + parsed.status().message());
    }
    std::optional<Json> answer = server.HandleJson(*parsed, principal, actor, options);
    HttpResponse ok;
    if (!answer) {
      ok.status = 202;
      ok.content_type.clear();
      return ok;
    }
    if (answer->is_object() && answer->contains("error")) {
      const Json& code = (*answer)["error"]["code"];
      if (code == kJsonRpcParseError || code == kJsonRpcInvalidRequest) ok.status = 400;
    }
    ok.body = util::DumpJson(*answer);
    return ok;
  }();
  r.route = "/mcp";
  r.key_id = principal.key_id;
  return r;
}

}  // namespace mnemo::server
