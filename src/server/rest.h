// The REST face: routes /v1/... requests to the operations of ops.h.
//
// A route's path parameters ({space}, {id}), its typed query parameters and the fields of
// its JSON body become the `args` of one operation; the answer is that operation's JSON
// (or, for export, NDJSON). Request rules (docs/api.md):
//   - POST and PATCH take a JSON object body with Content-Type application/json (none,
//     or another media type, is 415 unsupported_media_type; import takes its NDJSON body
//     under any type), unparseable JSON is 400
//     malformed_json (the message names the byte offset), a non-object is 422.
//   - GET and DELETE take no body (400 malformed_request) and only the query parameters
//     their route documents (others are 422 invalid_argument naming the parameter).
//   - An unknown path is 404 not_found; a known path with another method is 405
//     method_not_allowed with an Allow header.
// Every response carries the route template in HttpResponse::route
// ("/v1/spaces/{space}/memories/{id}"), never the raw path; "unmatched" when no route
// matched.
//
// Thread safety: HandleRest may run concurrently (it holds no state).
#pragma once

#include "server/http.h"
#include "server/ops.h"

namespace mnemo::server {

// The route label of a request no route matched (for metrics and access logs).
inline constexpr const char* kUnmatchedRoute = "unmatched";

HttpResponse HandleRest(const ops::Context& c, const HttpRequest& req);

}  // namespace mnemo::server
