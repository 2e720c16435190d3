#include "server/rest.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mnemo::server {
namespace {

using ops::Context;
using util::Json;
using Check = std::optional<ApiError>;  // nullopt: fine

// --- routes ------------------------------------------------------------------------------

enum class QueryType {
  kString,
  kInt,
  kBool,
  kList,     // repeatable: ?tag=a&tag=b
  kCsvList,  // repeatable and comma-separated: ?kind=fact,preference&kind=summary
  kOrder,    // asc | desc -> "descending": false | true
  kJson,     // a JSON value, URL-encoded: ?filters={"tags":"x"}
};

struct QueryParam {
  std::string_view name;  // in the query string
  std::string_view arg;   // in the operation's args
  QueryType type;
};

constexpr QueryParam kListQuery[] = {
    {"user", "user", QueryType::kString},
    {"agent", "agent", QueryType::kString},
    {"session", "session", QueryType::kString},
    {"kind", "kinds", QueryType::kCsvList},
    {"tag", "tags", QueryType::kList},
    {"since", "since", QueryType::kString},
    {"until", "until", QueryType::kString},
    {"filters", "filters", QueryType::kJson},
    {"include_retired", "include_retired", QueryType::kBool},
    {"include_archived", "include_archived", QueryType::kBool},
    {"quarantined", "quarantined", QueryType::kString},
    {"label", "labels", QueryType::kCsvList},
    {"exclude_label", "exclude_labels", QueryType::kCsvList},
    {"as_of", "as_of", QueryType::kString},
    {"valid_at", "valid_at", QueryType::kString},
    {"limit", "limit", QueryType::kInt},
    {"cursor", "cursor", QueryType::kString},
    {"order", "descending", QueryType::kOrder},
};

constexpr QueryParam kUsersQuery[] = {
    {"cursor", "cursor", QueryType::kString},
    {"limit", "limit", QueryType::kInt},
};

constexpr QueryParam kJobsQuery[] = {
    {"state", "state", QueryType::kString},
    {"limit", "limit", QueryType::kInt},
};

constexpr QueryParam kProfileQuery[] = {
    {"user", "user", QueryType::kString},
    {"limit", "limit", QueryType::kInt},
};

constexpr QueryParam kGetQuery[] = {
    {"reveal", "reveal", QueryType::kBool},
};

constexpr QueryParam kExportQuery[] = {
    {"user", "user", QueryType::kString},
};

constexpr QueryParam kEraseQuery[] = {
    {"reason", "reason", QueryType::kString},
};

constexpr QueryParam kDeleteQuery[] = {
    {"purge", "purge", QueryType::kBool},
    {"reason", "reason", QueryType::kString},
};

using JsonOp = ApiResult<Json> (*)(const Context&, const Json&);
using TextOp = ApiResult<std::string> (*)(const Context&, const Json&);

struct Route {
  std::string_view method;
  std::string_view pattern;  // the route template: "/v1/spaces/{space}/memories/{id}"
  JsonOp op;                 // answers JSON ...
  TextOp text_op;            // ... or NDJSON (export)
  int status;                // on success
  bool body;                 // takes a JSON object body
  std::span<const QueryParam> query = {};
  std::string_view text_body = {};  // takes any body, as this string argument (import)
};

// Any operation by its name (ops::Operations), its arguments the JSON body: what the
// Python Client calls, so that it answers exactly as the embedded engine does.
ApiResult<Json> CallByName(const Context& c, const Json& args) {
  Json rest = args;
  const std::string op = rest["op"].get<std::string>();  // the path parameter
  rest.erase("op");
  return ops::Call(c, op, rest);
}

constexpr std::string_view kSpace = "/v1/spaces/{space}";
constexpr std::string_view kMemory = "/v1/spaces/{space}/memories/{id}";

const Route kRoutes[] = {
    {"GET", "/v1/keys", &ops::ListKeys, nullptr, 200, false},
    {"POST", "/v1/keys", &ops::CreateKey, nullptr, 201, true},
    {"DELETE", "/v1/keys/{id}", &ops::RevokeKey, nullptr, 200, false},
    {"GET", "/v1/spaces", &ops::ListSpaces, nullptr, 200, false},
    {"POST", "/v1/spaces", &ops::CreateSpace, nullptr, 201, true},
    {"GET", kSpace, &ops::GetSpace, nullptr, 200, false},
    {"DELETE", kSpace, &ops::DropSpace, nullptr, 200, false},
    {"GET", "/v1/spaces/{space}/memories", &ops::ListMemories, nullptr, 200, false, kListQuery},
    {"POST", "/v1/spaces/{space}/memories", &ops::AddMemory, nullptr, 201, true},
    {"POST", "/v1/spaces/{space}/memories/batch", &ops::AddMemories, nullptr, 201, true},
    {"GET", kMemory, &ops::GetMemory, nullptr, 200, false, kGetQuery},
    {"PATCH", kMemory, &ops::UpdateMemory, nullptr, 200, true},
    {"DELETE", kMemory, &ops::DeleteMemory, nullptr, 200, false, kDeleteQuery},
    {"GET", "/v1/spaces/{space}/memories/{id}/history", &ops::MemoryHistory, nullptr, 200, false},
    {"GET", "/v1/spaces/{space}/memories/{id}/links", &ops::MemoryLinks, nullptr, 200, false},
    {"GET", "/v1/spaces/{space}/memories/{id}/provenance", &ops::MemoryProvenance, nullptr, 200,
     false},
    {"POST", "/v1/spaces/{space}/ingest", &ops::Ingest, nullptr, 201, true},
    {"POST", "/v1/spaces/{space}/search", &ops::Search, nullptr, 200, true},
    {"GET", "/v1/spaces/{space}/export", nullptr, &ops::Export, 200, false, kExportQuery},
    {"POST", "/v1/spaces/{space}/import", &ops::ImportSpace, nullptr, 201, false, {}, "export"},
    {"GET", "/v1/spaces/{space}/users", &ops::ListUsers, nullptr, 200, false, kUsersQuery},
    {"DELETE", "/v1/spaces/{space}/users/{user}", &ops::EraseUser, nullptr, 200, false,
     kEraseQuery},
    {"GET", "/v1/spaces/{space}/jobs", &ops::ListJobs, nullptr, 200, false, kJobsQuery},
    {"GET", "/v1/spaces/{space}/jobs/stats", &ops::JobStats, nullptr, 200, false},
    {"POST", "/v1/spaces/{space}/jobs/retry", &ops::RetryJobs, nullptr, 200, true},
    {"POST", "/v1/spaces/{space}/maintain", &ops::Maintain, nullptr, 200, false},
    {"GET", "/v1/spaces/{space}/profile", &ops::GetProfile, nullptr, 200, false, kProfileQuery},
    {"PATCH", "/v1/spaces/{space}/profile", &ops::EditProfile, nullptr, 200, true},
    {"POST", "/v1/spaces/{space}/context", &ops::BuildContext, nullptr, 200, true},
    {"POST", "/v1/ops/{op}", &CallByName, nullptr, 200, true},
};

using PathParams = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  for (;;) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

// Matches `path` against `pattern`; a {param} matches one non-empty segment.
std::optional<PathParams> Match(std::string_view pattern, std::string_view path) {
  const auto want = Segments(pattern);
  const auto got = Segments(path);
  if (want.size() != got.size()) return std::nullopt;
  PathParams params;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].starts_with('{')) {
      if (got[i].empty()) return std::nullopt;
      params.emplace_back(want[i].substr(1, want[i].size() - 2), got[i]);
    } else if (want[i] != got[i]) {
      return std::nullopt;
    }
  }
  return params;
}

// The template that matches `path`, literal segments winning over parameters
// ("/memories/batch" is not memory "batch"), with its parameters.
std::optional<std::pair<std::string_view, PathParams>> Resolve(std::string_view path) {
  std::optional<std::pair<std::string_view, PathParams>> best;
  for (const Route& r : kRoutes) {
    if (best && best->first == r.pattern) continue;
    auto params = Match(r.pattern, path);
    if (params && (!best || params->size() < best->second.size())) {
      best.emplace(r.pattern, std::move(*params));
    }
  }
  return best;
}

const Route* FindRoute(std::string_view pattern, std::string_view method) {
  for (const Route& r : kRoutes) {
    if (r.pattern == pattern && r.method == method) return &r;
  }
  return nullptr;
}

std::string AllowedMethods(std::string_view pattern) {
  std::string allow;
  for (const Route& r : kRoutes) {
    if (r.pattern != pattern) continue;
    if (!allow.empty()) allow += ", ";
    allow += r.method;
  }
  return allow;
}

// --- request -> args ---------------------------------------------------------------------

bool IsJsonMediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  return std::equal(type.begin(), type.end(), kJson.begin(), kJson.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
}

ApiResult<Json> BodyObject(const HttpRequest& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return BadRequest("malformed_json", "the request body is empty; send a JSON object");
  }
  // Required, not assumed: a browser may send a body without one to any site unasked.
  const std::string* ct = req.Header("content-type");
  if (ct == nullptr) {
    return ApiError{415, "unsupported_media_type",
                    "the request has no Content-Type; send the body as application/json", ""};
  }
  if (!IsJsonMediaType(*ct)) {
    return ApiError{415, "unsupported_media_type",
                    "Content-Type \"" + *ct + "\" is not supported; send application/json", ""};
  }
  auto parsed = util::ParseJson(req.body);
  if (!parsed.ok()) return BadRequest("malformed_json", parsed.status().message());
  if (!parsed->is_object()) return Invalid("the request body must be a JSON object", "");
  return std::move(parsed).value();
}

Check ParamError(std::string_view name, const std::string& message) {
  return Invalid("query parameter \"" + std::string(name) + "\" " + message, std::string(name));
}

// Converts one query parameter to its typed argument.
Check AddParam(const QueryParam& p, const std::string& value, Json* args) {
  Json& slot = (*args)[std::string(p.arg)];
  const bool list = p.type == QueryType::kList || p.type == QueryType::kCsvList;
  if (!list && !slot.is_null()) return ParamError(p.name, "is given more than once");
  switch (p.type) {
    case QueryType::kString:
      slot = value;
      return std::nullopt;
    case QueryType::kInt: {
      int64_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        return ParamError(p.name, "must be an integer; got \"" + value + "\"");
      }
      slot = n;
      return std::nullopt;
    }
    case QueryType::kBool:
      if (value != "true" && value != "false") {
        return ParamError(p.name, "must be true or false; got \"" + value + "\"");
      }
      slot = value == "true";
      return std::nullopt;
    case QueryType::kOrder:
      if (value != "asc" && value != "desc") {
        return ParamError(p.name, "must be asc or desc; got \"" + value + "\"");
      }
      slot = value == "desc";
      return std::nullopt;
    case QueryType::kJson: {
      auto parsed = util::ParseJson(value);
      if (!parsed.ok()) return ParamError(p.name, "is not JSON: " + parsed.status().message());
      slot = std::move(parsed).value();
      return std::nullopt;
    }
    case QueryType::kList:
    case QueryType::kCsvList:
      break;
  }
  if (slot.is_null()) slot = Json::array();
  if (p.type == QueryType::kList) {
    slot.push_back(value);
    return std::nullopt;
  }
  for (size_t from = 0;;) {
    const size_t comma = value.find(',', from);
    slot.push_back(value.substr(from, comma == std::string::npos ? comma : comma - from));
    if (comma == std::string::npos) return std::nullopt;
    from = comma + 1;
  }
}

Check AddQuery(const Route& r, const HttpRequest& req, Json* args) {
  for (const auto& [name, value] : req.query) {
    auto p = std::find_if(r.query.begin(), r.query.end(),
                          [&name = name](const QueryParam& q) { return q.name == name; });
    if (p != r.query.end()) {
      if (auto e = AddParam(*p, value, args)) return e;
      continue;
    }
    std::string known;
    for (const auto& q : r.query) known += (known.empty() ? "" : ", ") + std::string(q.name);
    return Invalid("unknown query parameter \"" + name + "\" (" +
                       (known.empty() ? "this route takes none" : "known: " + known) + ")",
                   name);
  }
  return std::nullopt;
}

// The operation's args: the body's fields, the typed query parameters and the path
// parameters (which the body may not repeat).
ApiResult<Json> BuildArgs(const Route& r, const HttpRequest& req, const PathParams& params) {
  Json args = Json::object();
  if (r.body) {
    auto body = BodyObject(req);
    if (!body.ok()) return body.error();
    args = std::move(body).value();
  } else if (!r.text_body.empty()) {
    args[std::string(r.text_body)] = req.body;
  } else if (!req.body.empty()) {
    return BadRequest("malformed_request", req.method + " " + std::string(r.pattern) +
                                               " takes no request body; send its parameters in "
                                               "the query string");
  }
  if (auto e = AddQuery(r, req, &args)) return *e;
  for (const auto& [name, value] : params) {
    if (args.contains(name)) {
      return Invalid("\"" + name + "\" is taken from the path; remove it from the request body",
                     name);
    }
    args[name] = value;
  }
  return args;
}

// --- answers -----------------------------------------------------------------------------

HttpResponse Error(ApiError e, const Route& r) {
  // Name the query parameter, not the argument it became ("kind", not "kinds").
  for (const auto& q : r.query) {
    if (e.field == q.arg) e.field = std::string(q.name);
  }
  HttpResponse resp = ErrorResponse(e);
  resp.route = std::string(r.pattern);
  return resp;
}

HttpResponse Run(const Route& r, const Context& c, const Json& args) {
  HttpResponse resp;
  resp.route = std::string(r.pattern);
  if (r.text_op != nullptr) {
    auto text = r.text_op(c, args);
    if (!text.ok()) return Error(text.error(), r);
    resp.content_type = "application/x-ndjson";
    resp.body = std::move(text).value();
    return resp;
  }
  auto answer = r.op(c, args);
  if (!answer.ok()) return Error(answer.error(), r);
  resp.status = r.status;
  resp.body = util::DumpJson(answer.value());
  return resp;
}

HttpResponse ErrorAt(ApiError e, std::string_view route) {
  HttpResponse resp = ErrorResponse(e);
  resp.route = std::string(route);
  return resp;
}

}  // namespace

HttpResponse HandleRest(const Context& c, const HttpRequest& req) {
  auto resolved = Resolve(req.path);
  if (!resolved) {
    return ErrorAt({404, "not_found", "no route for " + req.method + " " + req.path, ""},
                   kUnmatchedRoute);
  }
  const auto& [pattern, params] = *resolved;
  const Route* route = FindRoute(pattern, req.method);
  if (route == nullptr) {
    const std::string allow = AllowedMethods(pattern);
    HttpResponse resp = ErrorAt(
        {405, "method_not_allowed",
         req.method + " is not allowed on " + std::string(pattern) + " (allowed: " + allow + ")",
         ""},
        pattern);
    resp.headers.emplace_back("Allow", allow);
    return resp;
  }
  auto args = BuildArgs(*route, req, params);
  // Argument-building errors already name the query parameter as sent.
  if (!args.ok()) return ErrorAt(args.error(), route->pattern);
  return Run(*route, c, args.value());
}

}  // namespace mnemo::server
