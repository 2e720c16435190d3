#include "server/errors.h"

namespace mnemo::server {

ApiError FromStatus(const Status& s, std::string field) {
  ApiError e;
  e.field = std::move(field);
  e.message = s.message();
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      e.http_status = 422;
      break;
    case StatusCode::kNotFound:
      e.http_status = 404;
      break;
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict:
    case StatusCode::kFailedPrecondition:
      e.http_status = 409;
      break;
    case StatusCode::kTooLarge:
      e.http_status = 413;
      break;
    case StatusCode::kUnavailable:
      e.http_status = 503;
      break;
    case StatusCode::kOk:  // a bug in the caller: an error built from success
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
    case StatusCode::kInternal:
      e.http_status = 500;
      break;
  }
  e.code =
      std::string(StatusCodeName(s.code() == StatusCode::kOk ? StatusCode::kInternal : s.code()));
  return e;
}

ApiError BadRequest(std::string code, std::string message, std::string field) {
  return ApiError{400, std::move(code), std::move(message), std::move(field)};
}

ApiError Invalid(std::string message, std::string field) {
  return ApiError{422, "invalid_argument", std::move(message), std::move(field)};
}

util::Json ErrorJson(const ApiError& e) {
  util::Json err = {{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  return util::Json{{"error", std::move(err)}};
}

HttpResponse ErrorResponse(const ApiError& e) {
  HttpResponse r;
  r.status = e.http_status;
  r.body = util::DumpJson(ErrorJson(e));
  return r;
}

}  // namespace mnemo::server
