#include "server/http_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace mnemo::server {
namespace {

constexpr size_t kMaxHeaders = 100;
constexpr size_t kMaxChunkLine = 1024;
constexpr size_t kMaxTrailerBytes = 8 * 1024;

bool IsTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(c); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Case-insensitive: does the comma-separated header value hold `token`?
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = Trim(value.substr(0, comma));
    if (Lower(item) == token) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

ParseStatus Fail(ParseError* err, int status, std::string code, std::string message) {
  err->status = status;
  err->code = std::move(code);
  err->message = std::move(message);
  return ParseStatus::kError;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out, std::string* error) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        *error = "incomplete percent escape in the request target";
        return false;
      }
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        *error = "bad percent escape in the request target";
        return false;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') {
      *error = "NUL byte in the request target";
      return false;
    }
    out->push_back(c);
  }
  return true;
}

// Finds the end of the head: the index just past "\r\n\r\n" (or "\n\n"), or npos.
size_t HeadEnd(std::string_view data) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '\n') continue;
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

// Splits off the next line (without its CRLF or LF).
std::string_view NextLine(std::string_view* rest) {
  size_t nl = rest->find('\n');
  std::string_view line = rest->substr(0, nl);
  rest->remove_prefix(nl == std::string_view::npos ? rest->size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

ParseStatus ParseRequestLine(std::string_view line, HttpRequest* req, bool* http10,
                             ParseError* err) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(err, 400, "malformed_request", "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Fail(err, 400, "malformed_request", "malformed request method");
  if (version == "HTTP/1.1") {
    *http10 = false;
  } else if (version == "HTTP/1.0") {
    *http10 = true;
  } else if (version.substr(0, 5) == "HTTP/") {
    return Fail(err, 505, "http_version_not_supported", "only HTTP/1.1 and HTTP/1.0 are served");
  } else {
    return Fail(err, 400, "malformed_request", "malformed HTTP version");
  }
  if (target.empty() || target.front() != '/') {
    return Fail(err, 400, "malformed_request",
                "the request target must be a path starting with '/'");
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Fail(err, 400, "malformed_request", "control character in the request target");
    }
  }
  std::string error;
  if (!ParseTarget(target, &req->path, &req->query, &error)) {
    return Fail(err, 400, "malformed_request", error);
  }
  req->method = std::string(method);
  req->target = std::string(target);
  return ParseStatus::kDone;
}

}  // namespace

bool ParseTarget(std::string_view target, std::string* path,
                 std::vector<std::pair<std::string, std::string>>* query, std::string* error) {
  size_t q = target.find('?');
  if (!PercentDecode(target.substr(0, q), /*plus_is_space=*/false, path, error)) return false;
  query->clear();
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), true, &key, error)) return false;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value, error)) {
      return false;
    }
    query->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

ParseStatus ParseHead(std::string_view data, const Limits& limits, HttpRequest* req,
                      size_t* head_len, BodyFraming* framing, ParseError* err) {
  // Tolerate empty lines before the request line (RFC 9112 section 2.2).
  size_t skip = 0;
  while (skip < data.size() && (data[skip] == '\r' || data[skip] == '\n')) ++skip;
  const size_t end = HeadEnd(data.substr(skip));
  if (end == std::string_view::npos) {
    if (data.size() - skip > limits.max_header_bytes) {
      return Fail(
          err, 431, "headers_too_large",
          "request line and headers exceed " + std::to_string(limits.max_header_bytes) + " bytes");
    }
    return ParseStatus::kNeedMore;
  }
  if (end > limits.max_header_bytes) {
    return Fail(
        err, 431, "headers_too_large",
        "request line and headers exceed " + std::to_string(limits.max_header_bytes) + " bytes");
  }
  std::string_view rest = data.substr(skip, end);
  bool http10 = false;
  if (ParseRequestLine(NextLine(&rest), req, &http10, err) != ParseStatus::kDone) {
    return ParseStatus::kError;
  }
  req->headers.clear();
  *framing = BodyFraming{};
  framing->keep_alive = !http10;
  bool have_length = false;
  // An index, not a pointer: later headers may move the vector's storage.
  std::optional<size_t> transfer_encoding;
  for (std::string_view line = NextLine(&rest); !line.empty(); line = NextLine(&rest)) {
    if (line.front() == ' ' || line.front() == '\t') {
      return Fail(err, 400, "malformed_request", "obsolete header line folding is not accepted");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Fail(err, 400, "malformed_request", "malformed header line");
    }
    if (req->headers.size() >= kMaxHeaders) {
      return Fail(err, 431, "headers_too_large",
                  "more than " + std::to_string(kMaxHeaders) + " header fields");
    }
    std::string name = Lower(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return Fail(err, 400, "malformed_request", "control character in header " + name);
      }
    }
    if (name == "content-length") {
      size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size()) {
        return Fail(err, 400, "malformed_request", "Content-Length is not a number");
      }
      if (have_length && n != framing->content_length) {
        return Fail(err, 400, "malformed_request", "conflicting Content-Length headers");
      }
      have_length = true;
      framing->content_length = n;
    } else if (name == "connection") {
      if (HasToken(value, "close")) framing->keep_alive = false;
      if (HasToken(value, "keep-alive")) framing->keep_alive = true;
    } else if (name == "expect") {
      if (Lower(value) != "100-continue") {
        return Fail(err, 417, "expectation_failed", "only 'Expect: 100-continue' is supported");
      }
      framing->expect_continue = true;
    }
    if (name == "transfer-encoding") transfer_encoding = req->headers.size();
    req->headers.emplace_back(std::move(name), std::string(value));
  }
  if (transfer_encoding) {
    // Content-Length with Transfer-Encoding is how requests are smuggled: refuse it.
    if (have_length) {
      return Fail(err, 400, "malformed_request",
                  "Content-Length and Transfer-Encoding must not both be sent");
    }
    if (Lower(req->headers[*transfer_encoding].second) != "chunked") {
      return Fail(err, 501, "not_implemented", "only the chunked transfer coding is supported");
    }
    framing->chunked = true;
  }
  if (framing->content_length > limits.max_body_bytes) {
    return Fail(err, 413, "too_large",
                "request body of " + std::to_string(framing->content_length) +
                    " bytes exceeds the limit of " + std::to_string(limits.max_body_bytes));
  }
  *head_len = skip + end;
  return ParseStatus::kDone;
}

ParseStatus ChunkedDecoder::Feed(std::string_view data, size_t* pos, std::string* out,
                                 ParseError* err) {
  while (*pos < data.size()) {
    std::string_view rest = data.substr(*pos);
    switch (state_) {
      case State::kSize: {
        size_t nl = rest.find('\n');
        if (nl == std::string_view::npos) {
          if (rest.size() > kMaxChunkLine)
            return Fail(err, 400, "malformed_request", "chunk size line too long");
          return ParseStatus::kNeedMore;
        }
        if (nl > kMaxChunkLine) {
          return Fail(err, 400, "malformed_request", "chunk size line too long");
        }
        std::string_view line = rest.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        line = line.substr(0, line.find(';'));  // chunk extensions are ignored
        line = Trim(line);
        size_t size = 0;
        auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (line.empty() || ec != std::errc() || p != line.data() + line.size()) {
          return Fail(err, 400, "malformed_request", "malformed chunk size");
        }
        *pos += nl + 1;
        if (size > max_body_ || out->size() > max_body_ - size) {
          return Fail(err, 413, "too_large",
                      "request body exceeds the limit of " + std::to_string(max_body_) + " bytes");
        }
        remaining_ = size;
        state_ = size == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kData: {
        size_t n = std::min(remaining_, rest.size());
        out->append(rest.substr(0, n));
        *pos += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {
        if (rest.size() < 2 && rest == "\r") return ParseStatus::kNeedMore;
        if (rest.substr(0, 2) == "\r\n") {
          *pos += 2;
        } else if (rest.front() == '\n') {
          *pos += 1;
        } else {
          return Fail(err, 400, "malformed_request", "chunk data not followed by CRLF");
        }
        state_ = State::kSize;
        break;
      }
      case State::kTrailer: {
        size_t nl = rest.find('\n');
        if (nl == std::string_view::npos) {
          if (trailer_bytes_ + rest.size() > kMaxTrailerBytes) {
            return Fail(err, 431, "headers_too_large", "chunked trailer section too large");
          }
          return ParseStatus::kNeedMore;
        }
        *pos += nl + 1;
        trailer_bytes_ += nl + 1;
        if (trailer_bytes_ > kMaxTrailerBytes) {
          return Fail(err, 431, "headers_too_large", "chunked trailer section too large");
        }
        std::string_view line = rest.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) return ParseStatus::kDone;  // trailer fields are discarded
        break;
      }
    }
  }
  return ParseStatus::kNeedMore;
}

}  // namespace mnemo::server
