// HTTP/1.1 request parsing (RFC 9112), incremental and bounded: the request head is
// parsed from the start of a connection's input buffer once it is complete, and a
// chunked body is decoded as its bytes arrive. Every limit of server::Limits is enforced
// here, before anything is buffered beyond it. Request smuggling vectors are refused
// (Content-Length together with Transfer-Encoding, conflicting lengths, obs-fold,
// whitespace before the colon).
//
// Thread safety: pure functions; a ChunkedDecoder belongs to one connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "server/http.h"
#include "server/limits.h"

namespace mnemo::server {

enum class ParseStatus { kNeedMore, kDone, kError };

struct ParseError {
  int status = 400;  // the HTTP status to answer with
  std::string code = "malformed_request";
  std::string message;
};

// How the body of a parsed head is framed, and what the connection does after it.
struct BodyFraming {
  bool chunked = false;
  size_t content_length = 0;     // when !chunked
  bool expect_continue = false;  // "Expect: 100-continue"
  bool keep_alive = true;  // HTTP/1.1 default; "Connection: close" or HTTP/1.0 without keep-alive
};

// Parses the request line and headers at the start of `data` into `req` (method,
// target, path, query, headers). kNeedMore: the head is incomplete and within limits;
// kDone: `*head_len` bytes (including the blank line) form the head; kError: `err` says
// why (400, 413 over max_body_bytes by Content-Length, 431 head too large, 501 unknown
// transfer coding, 505 version).
ParseStatus ParseHead(std::string_view data, const Limits& limits, HttpRequest* req,
                      size_t* head_len, BodyFraming* framing, ParseError* err);

// Splits a request target into its percent-decoded path and query parameters ('+' is a
// space in the query). False (with a message) on a bad escape or a NUL byte.
bool ParseTarget(std::string_view target, std::string* path,
                 std::vector<std::pair<std::string, std::string>>* query, std::string* error);

// Decodes a chunked body incrementally. Feed the bytes that follow the head; `*pos` is
// advanced over what was consumed, decoded bytes are appended to `out`.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(size_t max_body) : max_body_(max_body) {}
  // kDone when the last chunk and the trailer section are consumed.
  ParseStatus Feed(std::string_view data, size_t* pos, std::string* out, ParseError* err);

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer };
  size_t max_body_;
  State state_ = State::kSize;
  size_t remaining_ = 0;
  size_t trailer_bytes_ = 0;
};

}  // namespace mnemo::server
