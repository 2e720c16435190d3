// The JSON error contract of the network faces:
//   {"error": {"code": "not_found", "message": "memory 42 does not exist", "field": "id"}}
// with the HTTP status that goes with the code (docs/api.md lists them all):
//   400 malformed_request / malformed_json   401 unauthorized   403 forbidden
//   404 not_found   405 method_not_allowed   408 request_timeout   409 conflict / already_exists
//   413 too_large   415 unsupported_media_type   422 invalid_argument   429 rate_limited
//   431 headers_too_large   500 internal / io_error / corruption   503 overloaded / unavailable
//
// Thread safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "mnemo/status.h"
#include "server/http.h"
#include "util/json_codec.h"

namespace mnemo::server {

struct ApiError {
  int http_status = 500;
  std::string code;     // stable snake_case name
  std::string message;  // for the person fixing the request
  std::string field;    // the offending field ("" when not about one field)
};

// Maps an engine Status to an ApiError: kInvalidArgument -> 422 invalid_argument,
// kNotFound -> 404, kAlreadyExists/kConflict/kFailedPrecondition -> 409, kTooLarge -> 413,
// kUnavailable -> 503, the rest -> 500. `field` is attached as given.
ApiError FromStatus(const Status& s, std::string field = "");

ApiError BadRequest(std::string code, std::string message, std::string field = "");  // 400
ApiError Invalid(std::string message, std::string field);  // 422 invalid_argument

util::Json ErrorJson(const ApiError& e);
HttpResponse ErrorResponse(const ApiError& e);

// A value or an ApiError: what every operation returns.
template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  bool ok() const { return value_.has_value(); }
  const ApiError& error() const { return error_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
  ApiError error_;
};

}  // namespace mnemo::server
