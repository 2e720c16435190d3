// mnemo/status.h — errors as values.
//
// Every expected failure in mnemo (bad input, unknown id, conflict, I/O trouble, a
// provider that timed out) is reported as a Status or a Result<T>; no exception crosses
// the public API. Messages are written for the person who has to fix the problem: they
// say what was wrong and where (e.g. `line 17: expected string for "text"`).
//
// Thread safety: Status and Result are values; distinct objects may be used from
// different threads freely, a single object needs external synchronization for writes.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mnemo {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (malformed, wrong type, out of range)
  kNotFound,            // unknown space, memory id, ...
  kAlreadyExists,       // create of something that exists
  kConflict,            // the request contradicts the store's state (id clash on import, ...)
  kTooLarge,            // a payload or value over a configured limit
  kFailedPrecondition,  // the store is not in a state that allows this (not initialized, ...)
  kCorruption,          // a file failed its checksum or format check
  kIOError,             // the filesystem or SQLite failed
  kUnavailable,         // a provider or resource is temporarily unavailable
  kInternal,            // a bug in mnemo: please report it
};

// Returns the stable lower-case name of a code ("invalid_argument", "not_found", ...),
// used in JSON error bodies.
std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: memory 42 does not exist in space 'notes'"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: ` (OK stays OK).
  Status WithContext(std::string_view context) const;

  // The request field the error is about, when the code that found it knows one: "k",
  // "filters.AND[1].price.gt". "" when none is named. The faces report it (the "field" of
  // an HTTP error body, Python's InvalidArgument.field) without reading the message.
  const std::string& field() const { return field_; }
  // Returns a copy that names `field` (OK stays OK).
  Status WithField(std::string field) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

// Either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result built from a Status must carry an error");
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace mnemo

// Internal convenience: return early on error.
#define MNEMO_RETURN_IF_ERROR(expr)      \
  do {                                   \
    ::mnemo::Status _mnemo_s = (expr);   \
    if (!_mnemo_s.ok()) return _mnemo_s; \
  } while (0)

#define MNEMO_CONCAT_INNER(a, b) a##b
#define MNEMO_CONCAT(a, b) MNEMO_CONCAT_INNER(a, b)
#define MNEMO_ASSIGN_OR_RETURN(lhs, expr) \
  MNEMO_ASSIGN_OR_RETURN_IMPL(MNEMO_CONCAT(_mnemo_r, __LINE__), lhs, expr)
#define MNEMO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
