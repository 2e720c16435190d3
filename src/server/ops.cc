#include "server/ops.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/search_params.h"

// Early returns for ApiResult / optional<ApiError> (the ops' own MNEMO_* macros).
#define OPS_RETURN_IF_ERROR(expr)             \
  do {                                        \
    if (auto _ops_e = (expr)) return *_ops_e; \
  } while (0)
#define OPS_ASSIGN_OR_RETURN(lhs, expr) \
  OPS_ASSIGN_OR_RETURN_IMPL(MNEMO_CONCAT(_ops_r, __LINE__), lhs, expr)
#define OPS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.error();              \
  lhs = std::move(tmp).value()

namespace mnemo::server::ops {
namespace {

using Check = std::optional<ApiError>;  // nullopt: fine

// --- errors ----------------------------------------------------------------------------

// An error of util/json_codec or of the engine: Status carries the field it is about.
ApiError ArgError(const Status& s) { return FromStatus(s, s.field()); }

template <typename T>
ApiResult<T> Arg(Result<T> r) {
  if (!r.ok()) return ArgError(r.status());
  return std::move(r).value();
}

Check ArgStatus(const Status& s) {
  if (s.ok()) return std::nullopt;
  return ArgError(s);
}

// `field` names the argument when the engine's status names none.
ApiError EngineError(const Status& s, std::string field = "") {
  return FromStatus(s, s.field().empty() ? std::move(field) : s.field());
}

std::string ItemName(std::string_view array, size_t index) {
  return std::string(array) + "[" + std::to_string(index) + "]";
}

// An error about one element of an array argument: the field reads "memories[2].text".
ApiError ItemError(const Status& s, std::string_view array, size_t index) {
  const std::string item = ItemName(array, index);
  return FromStatus(s.WithContext(item), s.field().empty() ? item : item + "." + s.field());
}

// The engine's error about a batch: its field reads "[2].text" for the third item, which
// becomes "messages[2].text".
ApiError EngineItemError(const Status& s, std::string_view array) {
  if (s.field().starts_with('[')) return FromStatus(s, std::string(array) + s.field());
  return EngineError(s);
}

ApiError TooLarge(std::string message, std::string field) {
  return ApiError{413, "too_large", std::move(message), std::move(field)};
}

// --- argument checks -------------------------------------------------------------------

Check Authorize(const Context& c, const std::string& space, Role needed,
                std::string field = "space") {
  if (c.principal.Can(space, needed)) return std::nullopt;
  // The same answer whether or not the space exists: a 403 never reveals existence.
  const Role has = c.principal.RoleFor(space);
  const std::string held =
      has == Role::kNone ? "no role there" : "the " + std::string(RoleName(has)) + " role";
  return ApiError{403, "forbidden",
                  "this operation needs the " + std::string(RoleName(needed)) +
                      " role on space \"" + space + "\"; this key has " + held,
                  std::move(field)};
}

// `args` is an object whose fields are all in `known`.
Check Known(const Json& args, std::initializer_list<std::string_view> known) {
  if (!args.is_object()) return Invalid("expected a JSON object of arguments", "");
  if (known.size() == 0 && !args.empty()) {
    const std::string key = args.begin().key();
    return Invalid("unknown field \"" + key + "\": this operation takes no arguments", key);
  }
  Status s = util::CheckKnownFields(args, known);
  if (!s.ok()) return ArgError(s);
  return std::nullopt;
}

// Reads "space" and checks the principal's role on it, before anything touches the engine.
ApiResult<std::string> Space(const Context& c, const Json& args, Role needed) {
  if (!args.is_object()) return Invalid("expected a JSON object of arguments", "");
  OPS_ASSIGN_OR_RETURN(std::string space, Arg(util::GetString(args, "space", true)));
  OPS_RETURN_IF_ERROR(Authorize(c, space, needed));
  return space;
}

// --- end-user keys ---------------------------------------------------------------------
// A key bound to one end user (Principal::user) acts as that user: a missing "user" is
// that user, another user is a 403, another user's memory is the 404 of a missing one,
// and operations over every user of a space are refused.

bool Bound(const Context& c) { return !c.principal.user.empty(); }

std::string ActsAs(const Context& c) {
  return "this key acts as user \"" + c.principal.user + "\" only";
}

// Refuses an operation that covers every user of a space to a bound key.
Check EveryUser(const Context& c, std::string_view what) {
  if (!Bound(c)) return std::nullopt;
  return ApiError{403, "forbidden",
                  ActsAs(c) + ", and " + std::string(what) + " covers every user of the space", ""};
}

// Fills in or checks the "user" of `obj` for a bound key. A "user" that is not a
// non-empty string is left to the codec, which names what is wrong with it.
Check BindUserField(const Context& c, Json* obj, const std::string& field) {
  if (!obj->is_object()) return std::nullopt;
  Json& user = (*obj)["user"];
  if (user.is_null()) {
    user = c.principal.user;
    return std::nullopt;
  }
  if (!user.is_string() || user.get_ref<const std::string&>().empty() ||
      user.get_ref<const std::string&>() == c.principal.user) {
    return std::nullopt;
  }
  return ApiError{
      403, "forbidden",
      ActsAs(c) + ": \"" + field + "\" must be \"" + c.principal.user + "\" or left out", field};
}

// The arguments as an operation scoped by "user" reads them: `raw` itself for a key that
// covers every user, else a copy (in `storage`) whose "user" is the key's.
ApiResult<const Json*> AsUser(const Context& c, const Json& raw, Json* storage) {
  if (!Bound(c) || !raw.is_object()) return &raw;
  *storage = raw;
  OPS_RETURN_IF_ERROR(BindUserField(c, storage, "user"));
  return storage;
}

// --- denied labels -----------------------------------------------------------------------
// A key denied sensitivity labels (Principal::deny_labels) never sees a memory that
// carries one: lists, searches, context and profiles leave them out, by id they are the
// 404 of a missing memory, and a lossless export, which cannot leave them out, is refused.

LabelSet Denied(const Context& c) { return c.principal.deny_labels; }

// Whether the principal may see memory `m`: its user (bound keys) and its labels.
bool MaySee(const Context& c, const Memory& m) {
  return (!Bound(c) || m.user_id == c.principal.user) && (m.labels & Denied(c)) == 0;
}

// Whether the principal may see memory `id` (one it cannot see is as good as absent).
bool Visible(const Context& c, const std::string& space, MemoryId id) {
  if (!Bound(c) && Denied(c) == 0) return true;
  auto m = c.engine.Get(space, id);
  return m.ok() && MaySee(c, *m);
}

Check RefuseLossless(const Context& c, std::string_view what) {
  if (Denied(c) == 0) return std::nullopt;
  return ApiError{403, "forbidden",
                  "this key may not see memories labelled " +
                      [&] {
                        std::string names;
                        for (const auto& l : LabelNames(Denied(c)))
                          names += (names.empty() ? "" : ", ") + l;
                        return names;
                      }() +
                      ", and " + std::string(what) + " is lossless: it cannot leave them out",
                  ""};
}

struct Target {
  std::string space;
  MemoryId id = 0;
};

ApiResult<Target> MemoryTarget(const Context& c, const Json& args, Role needed) {
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, needed));
  OPS_ASSIGN_OR_RETURN(MemoryId id, Arg(util::GetMemoryId(args, "id")));
  if (Bound(c) || Denied(c) != 0) {
    auto m = c.engine.Get(space, id);
    if (!m.ok() && m.status().code() != StatusCode::kNotFound) {
      return EngineError(m.status(), "id");
    }
    // One answer for another user's memory, a denied label's, a purged one and one
    // that never existed.
    if (!m.ok() || !MaySee(c, *m)) {
      return FromStatus(Status::NotFound("memory " + std::to_string(id) +
                                         " does not exist in space '" + space + "'"),
                        "id");
    }
  }
  return Target{std::move(space), id};
}

// The fields of `args` other than `keys` (those the op reads itself), for a codec parser.
Json Without(const Json& args, std::initializer_list<std::string_view> keys) {
  Json rest = args;
  for (auto k : keys) rest.erase(std::string(k));
  return rest;
}

Check CheckTextSize(const Limits& limits, std::string_view text, const std::string& field) {
  if (text.size() <= limits.max_text_bytes) return std::nullopt;
  return TooLarge("\"" + field + "\" is " + std::to_string(text.size()) + " bytes; the limit is " +
                      std::to_string(limits.max_text_bytes),
                  field);
}

// An integer argument in [min, max].
// A non-empty array argument of at most Limits::max_batch items.
ApiResult<const Json*> Items(const Context& c, const Json& args, const std::string& key) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) {
    return Invalid("missing required field \"" + key + "\"", key);
  }
  if (!it->is_array()) return Invalid("expected array for \"" + key + "\"", key);
  if (it->empty()) return Invalid("\"" + key + "\" must hold at least one item", key);
  if (it->size() > c.limits.max_batch) {
    return TooLarge("\"" + key + "\" holds " + std::to_string(it->size()) +
                        " items; the limit is " + std::to_string(c.limits.max_batch),
                    key);
  }
  return &*it;
}

// Parses every element of an array argument with `parse`, checking each text's size.
template <typename T>
ApiResult<std::vector<T>> ParseItems(const Context& c, const Json& items, std::string_view array,
                                     Result<T> (*parse)(const Json&)) {
  std::vector<T> out;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    auto item = parse(items[i]);
    if (!item.ok()) return ItemError(item.status(), array, i);
    OPS_RETURN_IF_ERROR(CheckTextSize(c.limits, item->text, ItemName(array, i) + ".text"));
    out.push_back(std::move(item).value());
  }
  return out;
}

// --- answers ---------------------------------------------------------------------------

template <typename T, typename ToJson>
ApiResult<Json> Answer(Result<T> r, ToJson to_json) {
  if (!r.ok()) return EngineError(r.status());
  return Json(to_json(*r));
}

template <typename T>
Json ArrayOf(const std::vector<T>& items, Json (*to_json)(const T&)) {
  Json out = Json::array();
  for (const auto& item : items) out.push_back(to_json(item));
  return out;
}

Json SpacesJson(const Context& c, const std::vector<SpaceInfo>& spaces) {
  Json out = Json::array();
  for (const auto& s : spaces) {
    if (c.principal.RoleFor(s.name) == Role::kNone) continue;  // not this key's to see
    Json space = {{"name", s.name}, {"memories", s.memories}};
    if (Bound(c)) space.erase("memories");  // a count over every user of the space
    out.push_back(std::move(space));
  }
  return Json{{"spaces", std::move(out)}};
}

}  // namespace

// --- spaces ----------------------------------------------------------------------------

ApiResult<Json> ListSpaces(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {}));
  return Answer(c.engine.ListSpaces(),
                [&](const std::vector<SpaceInfo>& spaces) { return SpacesJson(c, spaces); });
}

ApiResult<Json> CreateSpace(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"name"}));
  OPS_ASSIGN_OR_RETURN(std::string name, Arg(util::GetString(args, "name", true)));
  OPS_RETURN_IF_ERROR(Authorize(c, name, Role::kAdmin, "name"));
  OPS_RETURN_IF_ERROR(EveryUser(c, "creating a space"));
  Status s = c.engine.CreateSpace(name);
  if (!s.ok()) return FromStatus(s, "name");
  return Json{{"name", name}};
}

ApiResult<Json> GetSpace(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_RETURN_IF_ERROR(EveryUser(c, "a space's statistics"));
  return Answer(c.engine.Stats(space), util::StatsToJson);
}

ApiResult<Json> DropSpace(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kAdmin));
  OPS_RETURN_IF_ERROR(EveryUser(c, "dropping a space"));
  Status s = c.engine.DropSpace(space);
  if (!s.ok()) return EngineError(s, "space");
  return Json{{"name", space}, {"dropped", true}};
}

// --- memories --------------------------------------------------------------------------

ApiResult<Json> AddMemory(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kWrite));
  OPS_ASSIGN_OR_RETURN(MemoryInput in, Arg(util::MemoryInputFromJson(Without(args, {"space"}))));
  OPS_RETURN_IF_ERROR(CheckTextSize(c.limits, in.text, "text"));
  auto id = c.engine.Add(space, in);
  if (!id.ok()) return EngineError(id.status());
  return Answer(c.engine.Get(space, *id), util::MemoryToJson);
}

ApiResult<Json> AddMemories(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "memories"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kWrite));
  OPS_ASSIGN_OR_RETURN(const Json* items, Items(c, args, "memories"));
  Json bound;
  if (Bound(c)) {
    bound = *items;
    for (size_t i = 0; i < bound.size(); ++i) {
      OPS_RETURN_IF_ERROR(BindUserField(c, &bound[i], ItemName("memories", i) + ".user"));
    }
    items = &bound;
  }
  OPS_ASSIGN_OR_RETURN(auto inputs, ParseItems(c, *items, "memories", &util::MemoryInputFromJson));
  auto ids = c.engine.AddBatch(space, inputs);
  if (!ids.ok()) return EngineItemError(ids.status(), "memories");
  return Json{{"ids", *ids}};
}

ApiResult<Json> GetMemory(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "id", "reveal"}));
  OPS_ASSIGN_OR_RETURN(bool reveal, Arg(util::GetBool(args, "reveal", false)));
  // The secrets of a memory's text are shown to admins who ask, and to no one else.
  OPS_ASSIGN_OR_RETURN(Target t, MemoryTarget(c, args, reveal ? Role::kAdmin : Role::kRead));
  return Answer(reveal ? c.engine.Reveal(t.space, t.id) : c.engine.Get(t.space, t.id),
                util::MemoryToJson);
}

ApiResult<Json> ListMemories(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_ASSIGN_OR_RETURN(ListRequest req, Arg(util::ListRequestFromJson(Without(args, {"space"}))));
  req.filter.exclude_labels |= Denied(c);
  if (auto it = args.find("limit"); it == args.end() || it->is_null()) {
    req.limit = std::min(req.limit, c.limits.max_list_limit);  // the default page
  }
  if (req.limit > c.limits.max_list_limit) {
    return Invalid("\"limit\" must be between 1 and " + std::to_string(c.limits.max_list_limit),
                   "limit");
  }
  return Answer(c.engine.List(space, req), util::ListPageToJson);
}

ApiResult<Json> ListUsers(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "cursor", "limit"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_RETURN_IF_ERROR(EveryUser(c, "listing users"));
  OPS_ASSIGN_OR_RETURN(std::string cursor, Arg(util::GetString(args, "cursor", false)));
  int limit = std::min(100, c.limits.max_list_limit);
  OPS_RETURN_IF_ERROR(ArgStatus(util::GetIntInto(args, "limit", &limit)));
  if (limit > c.limits.max_list_limit) {
    return Invalid("\"limit\" must be between 1 and " + std::to_string(c.limits.max_list_limit),
                   "limit");
  }
  return Answer(c.engine.ListUsers(space, cursor, limit), util::UserPageToJson);
}

ApiResult<Json> UpdateMemory(const Context& c, const Json& args) {
  // Releasing a memory from quarantine lets its text into context again: admin only.
  const auto q = args.is_object() ? args.find("quarantined") : args.end();
  const bool release = q != args.end() && q->is_boolean() && !q->get<bool>();
  OPS_ASSIGN_OR_RETURN(Target t, MemoryTarget(c, args, release ? Role::kAdmin : Role::kWrite));
  OPS_ASSIGN_OR_RETURN(MemoryUpdate u,
                       Arg(util::MemoryUpdateFromJson(Without(args, {"space", "id"}))));
  if (u.text) OPS_RETURN_IF_ERROR(CheckTextSize(c.limits, *u.text, "text"));
  u.actor = c.actor;
  return Answer(c.engine.Update(t.space, t.id, u), util::MemoryToJson);
}

ApiResult<Json> DeleteMemory(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "id", "reason", "purge"}));
  OPS_ASSIGN_OR_RETURN(bool purge, Arg(util::GetBool(args, "purge", false)));
  OPS_ASSIGN_OR_RETURN(Target t, MemoryTarget(c, args, purge ? Role::kAdmin : Role::kWrite));
  OPS_ASSIGN_OR_RETURN(std::string reason, Arg(util::GetString(args, "reason", false)));
  if (!purge) {
    Status s = c.engine.Remove(t.space, t.id, reason);
    if (!s.ok()) return EngineError(s);
    return Json{{"id", t.id}, {"deleted", true}, {"purged", false}};
  }
  auto erased = c.engine.Purge(t.space, t.id, reason);
  if (!erased.ok()) return EngineError(erased.status());
  return Json{{"id", t.id}, {"deleted", true}, {"purged", true}, {"erased", *erased}};
}

ApiResult<Json> MemoryHistory(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "id"}));
  OPS_ASSIGN_OR_RETURN(Target t, MemoryTarget(c, args, Role::kRead));
  return Answer(c.engine.History(t.space, t.id), [](const std::vector<HistoryEntry>& h) {
    return Json{{"history", ArrayOf(h, &util::HistoryToJson)}};
  });
}

ApiResult<Json> MemoryProvenance(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "id"}));
  OPS_ASSIGN_OR_RETURN(Target t, MemoryTarget(c, args, Role::kRead));
  auto steps = c.engine.Provenance(t.space, t.id);
  if (steps.ok()) {  // only what the key may see of the chain
    std::erase_if(*steps, [&](const ProvenanceStep& s) { return !MaySee(c, s.memory); });
  }
  return Answer(std::move(steps), [&](const std::vector<ProvenanceStep>& found) {
    return Json{{"id", t.id}, {"provenance", ArrayOf(found, &util::ProvenanceStepToJson)}};
  });
}

ApiResult<Json> MemoryLinks(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "id"}));
  OPS_ASSIGN_OR_RETURN(Target t, MemoryTarget(c, args, Role::kRead));
  auto links = c.engine.Links(t.space, t.id);
  if (links.ok() && (Bound(c) || Denied(c) != 0)) {  // only links to what the key may see
    std::erase_if(*links, [&](const Link& l) {
      return !Visible(c, t.space, l.from == t.id ? l.to : l.from);
    });
  }
  return Answer(std::move(links), [](const std::vector<Link>& found) {
    return Json{{"links", ArrayOf(found, &util::LinkToJson)}};
  });
}

// --- conversations and search ----------------------------------------------------------

ApiResult<Json> Ingest(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_RETURN_IF_ERROR(Known(args, {"space", "user", "messages"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kWrite));
  OPS_ASSIGN_OR_RETURN(std::string user, Arg(util::GetString(args, "user", true)));
  OPS_ASSIGN_OR_RETURN(const Json* items, Items(c, args, "messages"));
  OPS_ASSIGN_OR_RETURN(auto messages, ParseItems(c, *items, "messages", &util::MessageFromJson));
  auto r = c.engine.Ingest(space, user, messages);
  if (!r.ok()) return EngineItemError(r.status(), "messages");
  return Json{{"ids", r->ids}};
}

ApiResult<Json> Search(const Context& c, const Json& raw) {
  if (Bound(c) && raw.is_object() && raw.contains("all_users") && raw["all_users"] == true) {
    return ApiError{403, "forbidden", ActsAs(c) + ": \"all_users\" is not for it", "all_users"};
  }
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_ASSIGN_OR_RETURN(SearchRequest req,
                       Arg(util::SearchRequestFromJson(Without(args, {"space"}))));
  // The default k (10) follows a configured max_k below it; an explicit k is checked.
  if (!args.contains("k")) req.k = std::min(req.k, c.limits.max_k);
  req.filter.exclude_labels |= Denied(c);
  if (req.k > c.limits.max_k) {
    return Invalid("\"k\" must be between 1 and " + std::to_string(c.limits.max_k), "k");
  }
  OPS_RETURN_IF_ERROR(CheckTextSize(c.limits, req.query, "query"));
  if (req.filter.all_users && !req.filter.user_id.empty()) {
    return Invalid("give either \"user\" or \"all_users\", not both", "all_users");
  }
  auto hits = c.engine.Search(space, req);
  if (!hits.ok() && hits.status().field() == "user") {  // the scope rule: say the fields
    return EngineError(Status(hits.status().code(),
                              hits.status().message() + " (\"user\", or \"all_users\": true)")
                           .WithField("user"));
  }
  return Answer(std::move(hits), [](const std::vector<SearchHit>& found) {
    return Json{{"results", ArrayOf(found, &util::SearchHitToJson)}};
  });
}

// --- pipeline jobs -----------------------------------------------------------------------

ApiResult<Json> ListJobs(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "state", "limit"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_RETURN_IF_ERROR(EveryUser(c, "the job list"));
  OPS_ASSIGN_OR_RETURN(std::string state_name, Arg(util::GetString(args, "state", false)));
  std::optional<JobState> state;
  if (!state_name.empty()) {
    auto parsed = ParseJobState(state_name);
    if (!parsed.ok()) return Invalid(parsed.status().message(), "state");
    state = *parsed;
  }
  int limit = 50;
  if (auto it = args.find("limit"); it != args.end() && !it->is_null()) {
    const int max = c.limits.max_list_limit;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > max) {
      return Invalid("\"limit\" must be an integer between 1 and " + std::to_string(max), "limit");
    }
    limit = static_cast<int>(it->get<int64_t>());
  }
  return Answer(c.engine.ListJobs(space, state, limit), [](const std::vector<Job>& jobs) {
    return Json{{"jobs", ArrayOf(jobs, &util::JobToJson)}};
  });
}

ApiResult<Json> RetryJobs(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "id", "all"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kWrite));
  OPS_RETURN_IF_ERROR(EveryUser(c, "retrying jobs"));
  OPS_ASSIGN_OR_RETURN(bool all, Arg(util::GetBool(args, "all", false)));
  const bool has_id = args.contains("id") && !args["id"].is_null();
  if (all == has_id) {
    return Invalid("give either \"id\" (one dead job) or \"all\": true (every dead job)",
                   has_id ? "all" : "id");
  }
  int64_t id = 0;
  if (has_id) {
    const Json& v = args["id"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) {
      return Invalid("expected job id (a positive integer) for \"id\"", "id");
    }
    id = v.get<int64_t>();
  }
  auto n = c.engine.RetryJobs(space, id);
  if (!n.ok()) return EngineError(n.status(), has_id ? "id" : "");
  return Json{{"retried", *n}};
}

ApiResult<Json> JobStats(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_RETURN_IF_ERROR(EveryUser(c, "job statistics"));
  return Answer(c.engine.GetJobStats(space), util::JobStatsToJson);
}

ApiResult<Json> Maintain(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kWrite));
  OPS_RETURN_IF_ERROR(EveryUser(c, "maintenance"));
  return Answer(c.engine.Maintain(space), util::MaintenanceReportToJson);
}

// --- profile and context ------------------------------------------------------------------

ApiResult<Json> GetProfile(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_RETURN_IF_ERROR(Known(args, {"space", "user", "limit"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_ASSIGN_OR_RETURN(std::string user, Arg(util::GetString(args, "user", true)));
  int limit = kMaxProfileEntries;
  OPS_RETURN_IF_ERROR(ArgStatus(util::GetIntInto(args, "limit", &limit)));
  return Answer(c.engine.GetProfile(space, user, limit, Denied(c)), util::ProfileToJson);
}

ApiResult<Json> EditProfile(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kWrite));
  OPS_ASSIGN_OR_RETURN(ProfileEdit edit, Arg(util::ProfileEditFromJson(Without(args, {"space"}))));
  auto profile = c.engine.EditProfile(space, edit);
  if (!profile.ok()) return EngineError(profile.status());
  if (Denied(c) != 0) profile = c.engine.GetProfile(space, edit.user, 100, Denied(c));
  if (!profile.ok()) return EngineError(profile.status());
  return Json(util::ProfileToJson(*profile));
}

ApiResult<Json> BuildContext(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_ASSIGN_OR_RETURN(ContextRequest req,
                       Arg(util::ContextRequestFromJson(Without(args, {"space"}))));
  OPS_RETURN_IF_ERROR(CheckTextSize(c.limits, req.query, "query"));
  req.exclude_labels |= Denied(c);
  return Answer(c.engine.BuildContext(space, req), util::ContextResultToJson);
}

ApiResult<std::string> Export(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_RETURN_IF_ERROR(Known(args, {"space", "user"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kRead));
  OPS_ASSIGN_OR_RETURN(std::string user, Arg(util::GetScopeUser(args)));
  OPS_RETURN_IF_ERROR(RefuseLossless(c, "an export"));
  std::ostringstream out;
  Status s = user.empty() ? c.engine.Export(space, out) : c.engine.ExportUser(space, user, out);
  if (!s.ok()) return EngineError(s);
  return out.str();
}

ApiResult<Json> EraseUser(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_RETURN_IF_ERROR(Known(args, {"space", "user", "reason"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kAdmin));
  OPS_ASSIGN_OR_RETURN(std::string user, Arg(util::GetString(args, "user", true)));
  OPS_ASSIGN_OR_RETURN(std::string reason, Arg(util::GetString(args, "reason", false)));
  return Answer(c.engine.EraseUser(space, user, reason), [&](const UserErasure& e) {
    return Json{{"user", user}, {"erased", true}, {"memories", e.memories}, {"jobs", e.jobs}};
  });
}

ApiResult<Json> ImportSpace(const Context& c, const Json& args) {
  OPS_RETURN_IF_ERROR(Known(args, {"space", "export"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kAdmin));
  OPS_RETURN_IF_ERROR(EveryUser(c, "an import"));
  OPS_ASSIGN_OR_RETURN(std::string text, Arg(util::GetString(args, "export", true)));
  std::istringstream in(std::move(text));
  return Answer(c.engine.Import(space, in), [](const ImportResult& r) {
    return Json{{"memories", r.memories}, {"history", r.history_entries}, {"links", r.links}};
  });
}

ApiResult<Json> DeleteMemories(const Context& c, const Json& raw) {
  Json bound;
  OPS_ASSIGN_OR_RETURN(const Json* scoped, AsUser(c, raw, &bound));
  const Json& args = *scoped;
  OPS_RETURN_IF_ERROR(Known(args, {"space", "user", "agent", "session", "filters", "reason"}));
  OPS_ASSIGN_OR_RETURN(std::string space, Space(c, args, Role::kWrite));
  ListRequest req;
  OPS_ASSIGN_OR_RETURN(req.filter.user_id, Arg(util::GetScopeUser(args)));
  OPS_ASSIGN_OR_RETURN(req.filter.agent_id, Arg(util::GetString(args, "agent", false)));
  OPS_ASSIGN_OR_RETURN(req.filter.session_id, Arg(util::GetString(args, "session", false)));
  OPS_ASSIGN_OR_RETURN(std::string reason, Arg(util::GetString(args, "reason", false)));
  // The scope is named outright, never left to an expression: a filter narrows it.
  if (req.filter.user_id.empty() && req.filter.agent_id.empty() && req.filter.session_id.empty()) {
    return Invalid("give \"user\", \"agent\" or \"session\": whose memories to delete", "user");
  }
  if (auto it = args.find("filters"); it != args.end() && !it->is_null()) {
    if (!it->is_object())
      return Invalid("\"filters\" must be an object (a filter expression)", "filters");
    req.filter.expression = util::DumpJson(*it);
  }
  req.filter.all_users = req.filter.user_id.empty();
  req.filter.exclude_labels |= Denied(c);
  req.limit = c.limits.max_list_limit;
  // Collect first, then delete: removing while paging would move the cursor's ground.
  std::vector<MemoryId> ids;
  for (;;) {
    auto page = c.engine.List(space, req);
    if (!page.ok()) return EngineError(page.status());
    for (const Memory& m : page->memories) ids.push_back(m.id);
    if (page->next_cursor.empty()) break;
    req.cursor = page->next_cursor;
  }
  // One transaction: all of them or, on an error, none.
  return Answer(c.engine.RemoveMany(space, ids, reason), [](int64_t deleted) {
    return Json{{"deleted", deleted}};
  });
}

namespace {

ApiResult<Json> ExportJson(const Context& c, const Json& args) {
  auto text = Export(c, args);
  if (!text.ok()) return text.error();
  return Json(std::move(text).value());
}

constexpr Operation kOperations[] = {
    {"list_spaces", &ListSpaces},
    {"create_space", &CreateSpace},
    {"get_space", &GetSpace},
    {"drop_space", &DropSpace},
    {"add_memory", &AddMemory},
    {"add_memories", &AddMemories},
    {"get_memory", &GetMemory},
    {"list_memories", &ListMemories},
    {"update_memory", &UpdateMemory},
    {"delete_memory", &DeleteMemory},
    {"delete_memories", &DeleteMemories},
    {"memory_history", &MemoryHistory},
    {"memory_links", &MemoryLinks},
    {"memory_provenance", &MemoryProvenance},
    {"ingest", &Ingest},
    {"search", &Search},
    {"list_users", &ListUsers},
    {"list_keys", &ListKeys},
    {"create_key", &CreateKey},
    {"revoke_key", &RevokeKey},
    {"list_jobs", &ListJobs},
    {"retry_jobs", &RetryJobs},
    {"job_stats", &JobStats},
    {"maintain", &Maintain},
    {"get_profile", &GetProfile},
    {"edit_profile", &EditProfile},
    {"build_context", &BuildContext},
    {"export", &ExportJson},
    {"erase_user", &EraseUser},
    {"import", &ImportSpace},
};

}  // namespace

std::span<const Operation> Operations() { return kOperations; }

ApiResult<Json> Call(const Context& c, std::string_view name, const Json& args) {
  for (const Operation& op : kOperations) {
    if (op.name == name) return op.fn(c, args);
  }
  std::string known;
  for (const Operation& op : kOperations)
    known += (known.empty() ? "" : ", ") + std::string(op.name);
  return Invalid("unknown operation \"" + std::string(name) + "\" (known: " + known + ")", "op");
}

}  // namespace mnemo::server::ops
