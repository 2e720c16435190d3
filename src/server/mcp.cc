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
    "- A failed call returns isError: true and {\"error\": {\"code\", \"message\", "
    "\"field\"}}: fix what the message names and call again.";

using OpFn = ApiResult<Json> (*)(const ops::Context&, const Json&);

struct ToolDef {
  std::string_view name;
  OpFn op;
  bool takes_space;  // the tool works on one space: a default space is filled in
};

constexpr std::array<ToolDef, 13> kTools = {{
    {"add_memory", &ops::AddMemory, true},
    {"ingest_conversation", &ops::Ingest, true},
    {"search_memory", &ops::Search, true},
    {"get_memory", &ops::GetMemory, true},
    {"list_memories", &ops::ListMemories, true},
    {"update_memory", &ops::UpdateMemory, true},
    {"delete_memory", &ops::DeleteMemory, true},
    {"memory_history", &ops::MemoryHistory, true},
    {"list_spaces", &ops::ListSpaces, false},
    {"list_jobs", &ops::ListJobs, true},
    {"job_stats", &ops::JobStats, true},
    {"get_profile", &ops::GetProfile, true},
    {"get_context", &ops::BuildContext, true},
}};

const ToolDef* FindTool(std::string_view name) {
  for (const auto& t : kTools) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// --- tool schemas ------------------------------------------------------------------

Json Str(std::string description) {
  return {{"type", "string"}, {"description", std::move(description)}};
}
Json NonEmptyStr(std::string description) {
  return {{"type", "string"}, {"minLength", 1}, {"description", std::move(description)}};
}
Json Bool(std::string description) {
  return {{"type", "boolean"}, {"description", std::move(description)}};
}
Json StrArray(std::string description) {
  return {
      {"type", "array"}, {"items", {{"type", "string"}}}, {"description", std::move(description)}};
}
Json Time(std::string description) {
  return Str(std::move(description) +
             ". ISO 8601: \"2024-05-08\", \"2024-05-08T13:56\" or \"2024-05-08T13:56:07Z\" (no "
             "zone means UTC)");
}
Json NullableTime(std::string description) {
  Json t = Time(std::move(description) + "; null clears it");
  t["type"] = Json::array({"string", "null"});
  return t;
}
Json KindEnum() { return Json::array({"episode", "fact", "preference", "procedure", "summary"}); }
Json Kind(std::string description) {
  return {{"type", "string"}, {"enum", KindEnum()}, {"description", std::move(description)}};
}
Json Kinds() {
  return {{"type", "array"},
          {"items", {{"type", "string"}, {"enum", KindEnum()}}},
          {"uniqueItems", true},
          {"description", "only memories of these kinds (any of them)"}};
}
Json Meta(std::string description) {
  return {{"type", "object"}, {"description", std::move(description)}};
}
Json Id(std::string description) {
  return {{"type", "integer"}, {"minimum", 1}, {"description", std::move(description)}};
}
Json Importance() {
  return {{"type", "number"},
          {"minimum", 0},
          {"maximum", 1},
          {"description",
           "how much this matters, 0..1 (default 0.5); ranks important memories higher"}};
}

struct SchemaBuilder {
  const std::string& default_space;

  Json Space() const {
    Json s = {{"type", "string"},
              {"minLength", 1},
              {"maxLength", 64},
              {"pattern", "^[A-Za-z0-9_-][A-Za-z0-9_.-]*$"},
              {"description", "the memory space (an isolated store)"}};
    if (!default_space.empty()) {
      s["description"] = "the memory space (an isolated store); default \"" + default_space + "\"";
    }
    return s;
  }

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

Json Annotations(std::string title, bool read_only, bool destructive, bool idempotent) {
  Json a = {{"title", std::move(title)}, {"readOnlyHint", read_only}, {"openWorldHint", false}};
  if (!read_only) {
    a["destructiveHint"] = destructive;
    a["idempotentHint"] = idempotent;
  }
  return a;
}

Json Tool(std::string_view name, std::string title, std::string description, Json input_schema,
          Json annotations) {
  return {{"name", name},
          {"title", std::move(title)},
          {"description", std::move(description)},
          {"inputSchema", std::move(input_schema)},
          {"annotations", std::move(annotations)}};
}

// The filters shared by search_memory and list_memories.
Json FilterProperties(bool for_search) {
  Json p = {
      {"user", NonEmptyStr("only this user's memories (the user id)")},
      {"agent", Str("only memories of this agent")},
      {"session", Str("only memories of this session")},
      {"kinds", Kinds()},
      {"since", Time("only memories whose event time is at or after this")},
      {"until", Time("only memories whose event time is before this")},
      {"tags", StrArray("only memories that carry all of these tags")},
      {"meta", Meta("only memories whose metadata has these key: value pairs (exact match)")},
      {"include_retired",
       Bool("also return deleted, superseded and expired memories (default false)")},
      {"include_archived", Bool("also return memories the capacity limits moved to the archive "
                                "(default false)")},
      {"as_of", Time("answer as mnemo knew it at this time (memories it held then, as they "
                     "were then)")},
      {"valid_at", Time("only what was true in the world at this time (superseded facts "
                        "included)")},
  };
  if (for_search) {
    p["all_users"] = Bool(
        "search every user of the space (instead of naming \"user\"); needed when the space "
        "holds several users and no user is named");
  }
  return p;
}

Json BuildTools(const Limits& limits, const std::string& default_space) {
  const SchemaBuilder s{default_space};
  const std::string max_text = std::to_string(limits.max_text_bytes);
  const std::string max_batch = std::to_string(limits.max_batch);
  Json tools = Json::array();

  tools.push_back(Tool(
      "add_memory", "Add a memory",
      "Store one memory about a user: a fact, preference, procedure, summary or an episode "
      "(something said or done). It is durable and searchable as soon as the call returns. "
      "Write it as one self-contained sentence (\"Maya moved to Lisbon in March 2024\"). "
      "Returns the stored memory with its \"id\". If the memory corrects an existing one, "
      "use update_memory instead.",
      s.Object(
          {
              {"text", NonEmptyStr("the memory itself, at most " + max_text + " bytes of UTF-8")},
              {"user", NonEmptyStr("the user the memory is about (a stable user id)")},
              {"kind", Kind("episode (default): something said or done; fact; preference; "
                            "procedure: how-to or lesson learned; summary")},
              {"agent", Str("the agent that recorded it")},
              {"session", Str("the conversation or session it comes from")},
              {"role", Str("who said it: user, assistant, system, tool, ...")},
              {"speaker", Str("the speaker's name")},
              {"time", Time("when it was said or happened (default: now)")},
              {"valid_from", Time("when it became true in the world")},
              {"valid_to", Time("when it stopped being true")},
              {"expires_at", Time("when to forget it: it then leaves every search and is "
                                  "erased later (default: never, or the kind's TTL)")},
              {"ttl",
               {{"type", "string"},
                {"pattern", "^[0-9]{1,12}(ms|s|m|h|d|w)$"},
                {"description",
                 "forget it this long from now: 90d, 12h, 30m, 2w (not "
                 "with expires_at)"}}},
              {"importance", Importance()},
              {"tags", StrArray("labels to filter on later")},
              {"entities", StrArray("people, places or things it mentions")},
              {"meta", Meta("any JSON object to keep with the memory")},
              {"origin",
               {{"type", "string"},
                {"enum", {"user", "assistant", "tool", "import", "derived"}},
                {"description",
                 "where it comes from (default: assistant or tool when \"role\" "
                 "says so, else user)"}}},
              {"sources",
               {{"type", "array"},
                {"items", {{"type", "integer"}, {"minimum", 1}}},
                {"description", "ids of the memories this one was derived from"}}},
          },
          {"text", "user"}),
      Annotations("Add a memory", false, false, false)));

  Json message = {
      {"type", "object"},
      {"properties",
       {
           {"text", NonEmptyStr("what was said")},
           {"role", Str("user, assistant, system or tool (role or speaker is required)")},
           {"speaker", Str("the speaker's name (role or speaker is required)")},
           {"session", Str("the conversation it belongs to; messages of a session are linked "
                           "in order")},
           {"time", Time("when it was said (default: now)")},
           {"meta", Meta("any JSON object to keep with the message")},
       }},
      {"required", {"text"}},
      {"additionalProperties", false},
  };
  tools.push_back(Tool(
      "ingest_conversation", "Store conversation messages",
      "Store the messages of a conversation as episode memories of one user, in order, in "
      "one transaction (all or nothing). Each message needs \"text\" and a \"role\" or "
      "\"speaker\". Use it to keep a lossless record of what was said; use add_memory for "
      "distilled facts and preferences. Returns {\"ids\": [...]}, one id per message.",
      s.Object({{"user", NonEmptyStr("the user the conversation belongs to (a stable user id)")},
                {"messages",
                 {{"type", "array"},
                  {"minItems", 1},
                  {"maxItems", limits.max_batch},
                  {"items", message},
                  {"description", "the messages, oldest first (at most " + max_batch + ")"}}}},
               {"user", "messages"}),
      Annotations("Store conversation messages", false, false, false)));

  Json search_props = FilterProperties(true);
  search_props["now"] = Time(
      "the reference time of relative dates in the query (\"last week\", \"yesterday\"); "
      "default: the current time");
  search_props["query"] = NonEmptyStr(
      "what to recall, in natural language (\"Where does Maya live?\"); dates in the query "
      "(\"in June 2023\") favour memories of that period");
  search_props["k"] = {{"type", "integer"},
                       {"minimum", 1},
                       {"maximum", limits.max_k},
                       {"description", "number of results (default 10)"}};
  search_props["explain"] = Bool("add each signal's contribution to every result's score");
  tools.push_back(Tool(
      "search_memory", "Search memories",
      "Recall the memories most relevant to a query (hybrid: keywords, meaning, conversation "
      "context and dates), best first. Filters narrow the scope (user, kinds, time range, "
      "tags, metadata). In a space with several users, name the \"user\" or set \"all_users\". "
      "Returns {\"results\": [{\"id\", \"text\", \"score\", \"kind\", \"user\", \"session\", "
      "\"role\", \"speaker\", \"time\", \"meta\"}, ...]}.",
      s.Object(search_props, {"query"}), Annotations("Search memories", true, false, true)));

  tools.push_back(
      Tool("get_memory", "Get a memory",
           "Read one memory by id with all its fields (text, kind, user, times, version, state: "
           "active or retired, tags, metadata, sources).",
           s.Object({{"id", Id("the memory id")}}, {"id"}),
           Annotations("Get a memory", true, false, true)));

  Json list_props = FilterProperties(false);
  list_props["limit"] = {{"type", "integer"},
                         {"minimum", 1},
                         {"maximum", limits.max_list_limit},
                         {"description", "page size (default 100)"}};
  list_props["cursor"] = Str("the next_cursor of the previous page; omit for the first page");
  list_props["descending"] = Bool("newest first (default false: oldest first)");
  tools.push_back(Tool(
      "list_memories", "List memories",
      "Page through memories in time order (oldest first unless \"descending\"), optionally "
      "filtered by user, kinds, time range, tags or metadata. Returns {\"memories\": [...], "
      "\"next_cursor\": \"...\"}; pass next_cursor back as \"cursor\" for the next page (empty "
      "when there is none).",
      s.Object(list_props, {}), Annotations("List memories", true, false, true)));

  tools.push_back(
      Tool("update_memory", "Update a memory",
           "Change a memory: the fields given (at least one besides \"reason\") replace the "
           "current ones and a new version is written; the previous version stays in "
           "memory_history. Use it when a memory is wrong "
           "or out of date rather than adding a duplicate. Returns the memory as it now is.",
           s.Object({{"id", Id("the memory to change")},
                     {"text", NonEmptyStr("the new text")},
                     {"kind", Kind("the new kind")},
                     {"time", NullableTime("the new event time")},
                     {"valid_from", NullableTime("when it became true in the world")},
                     {"valid_to", NullableTime("when it stopped being true")},
                     {"expires_at", NullableTime("when to forget it (null: never)")},
                     {"importance", Importance()},
                     {"tier",
                      {{"type", "string"},
                       {"enum", {"working", "short_term", "long_term", "archived"}},
                       {"description", "the new storage tier"}}},
                     {"tags", StrArray("the new tags (replace the old ones)")},
                     {"entities", StrArray("the new entities (replace the old ones)")},
                     {"meta", Meta("the new metadata object (replaces the old one)")},
                     {"reason", Str("why it changed; recorded in the history")}},
                    {"id"}),
           Annotations("Update a memory", false, false, false)));

  tools.push_back(
      Tool("delete_memory", "Delete a memory",
           "Retire a memory: it leaves search and listings but stays in its history (the default). "
           "With \"purge\": true its text is erased everywhere, irreversibly (needs the admin "
           "role). Only delete when asked to forget something; correct mistakes with "
           "update_memory.",
           s.Object({{"id", Id("the memory to delete")},
                     {"reason", Str("why; recorded in the history")},
                     {"purge", Bool("erase the text everywhere, irreversibly (default false)")}},
                    {"id"}),
           Annotations("Delete a memory", false, true, false)));

  tools.push_back(
      Tool("memory_history", "Memory history",
           "The versions of a memory, oldest first: each entry has version, op (add, update, "
           "remove, purge), before and after (the memory at that point), actor, time and reason.",
           s.Object({{"id", Id("the memory id")}}, {"id"}),
           Annotations("Memory history", true, false, true)));

  tools.push_back(Tool("list_spaces", "List spaces",
                       "The memory spaces this caller may read, with their number of active "
                       "memories. Returns {\"spaces\": [{\"name\", \"memories\"}, ...]}.",
                       s.Object(Json::object(), {}, /*with_space=*/false),
                       Annotations("List spaces", true, false, true)));
  tools.push_back(
      Tool("list_jobs", "List pipeline jobs",
           "The background jobs that derive facts, preferences and procedures from conversation "
           "turns, newest first: each has id, kind, state (pending, done, dead), the memories it "
           "covers, attempts, next_run_at and last_error. Use it to see why derived memories are "
           "missing or late.",
           s.Object({{"state",
                      {{"type", "string"},
                       {"enum", {"pending", "done", "dead"}},
                       {"description", "only jobs in this state"}}},
                     {"limit",
                      {{"type", "integer"},
                       {"minimum", 1},
                       {"maximum", limits.max_list_limit},
                       {"description", "at most this many jobs (default 50)"}}}},
                    {}),
           Annotations("List pipeline jobs", true, false, true)));

  tools.push_back(
      Tool("job_stats", "Pipeline statistics",
           "How far the background pipeline has got: pending, done and dead jobs, turns "
           "processed, memories derived, the extractor (rules or the chat model), chat calls "
           "and tokens in total and per turn, and today's tokens against the daily budget.",
           s.Object(Json::object(), {}), Annotations("Pipeline statistics", true, false, true)));

  tools.push_back(
      Tool("get_profile", "Get a user's profile",
           "What is known about a user at a glance: the current value of each profile slot (home "
           "city, job, allergies, likes, ...), derived from conversations or edited, facts first, "
           "then preferences. Returns {\"user\", \"entries\": [{\"key\", \"value\", \"text\", "
           "\"kind\", \"memory_id\", \"since\", \"edited\"}, ...]}; \"text\" is the sentence to "
           "use, \"since\" when it became true. Superseded values are not listed.",
           s.Object({{"user", NonEmptyStr("the user whose profile to read (the user id)")},
                     {"limit",
                      {{"type", "integer"},
                       {"minimum", 1},
                       {"maximum", ops::kMaxProfileEntries},
                       {"description", "at most this many entries (default " +
                                           std::to_string(ops::kMaxProfileEntries) + ")"}}}},
                    {"user"}),
           Annotations("Get a user's profile", true, false, true)));

  tools.push_back(Tool(
      "get_context", "Get context for a turn",
      "Call get_context at the start of a turn to get a prompt-ready block of memory for the "
      "user and what they just said: the user's profile, then the memories relevant to the "
      "query grouped by conversation in time order with absolute dates, cut to fit a token "
      "budget. Put \"text\" in your context and answer from it. Returns {\"text\", \"tokens\", "
      "\"memories\" (the ids shown, for get_memory or update_memory), \"omitted\" (relevant "
      "memories the budget left out: raise \"budget\" or use search_memory), \"profile\"}.",
      s.Object({{"user", NonEmptyStr("the user the conversation is with (the user id)")},
                {"query", NonEmptyStr("what the user just said or asked, in natural language; "
                                      "memories relevant to it are included")},
                {"budget",
                 {{"type", "integer"},
                  {"minimum", ops::kMinContextBudget},
                  {"maximum", ops::kMaxContextBudget},
                  {"description",
                   "the most tokens the block may take (estimated as bytes / 4; default 1500)"}}},
                {"now", Time("the reference time, e.g. the conversation's date (default: now); "
                             "events after it are left out")},
                {"k",
                 {{"type", "integer"},
                  {"minimum", 1},
                  {"maximum", ops::kMaxContextK},
                  {"description", "memories retrieved before the budget cuts (default 30)"}}}},
               {"user", "query"}),
      Annotations("Get context for a turn", true, false, true)));
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
