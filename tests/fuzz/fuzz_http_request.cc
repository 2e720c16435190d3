// libFuzzer target: HTTP/1.1 request parsing (src/server/http_parser.h).
//
// The input is what a client sends on one connection. It is parsed the way HttpServer
// does it (a head, then a Content-Length or chunked body, then the next pipelined
// request), once with the default Limits and once with small ones, and the chunked body
// is decoded both in one piece and in pieces split where the input's bytes say (as TCP
// would deliver them). ParseTarget also gets the input's first line as a raw target.
//
// Invariants: no crash, leak or UB (ASan+UBSan); kDone heads are self-delimiting
// (head_len <= size, one byte less needs more, the head alone parses identically), hold
// a well-formed request (token method, '/'-path, lower-case header names, no NUL in
// decoded values) and respect every limit; a decoded body never exceeds max_body_bytes;
// errors carry an expected HTTP status and a non-empty code and message.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_common.h"
#include "server/http_parser.h"

namespace mnemo::fuzz {
namespace {

using server::BodyFraming;
using server::ChunkedDecoder;
using server::HttpRequest;
using server::Limits;
using server::ParseError;
using server::ParseStatus;

constexpr size_t kMaxPipelined = 8;

// splitmix64: deterministic piece sizes derived from the input's bytes.
struct Splitter {
  uint64_t state;
  explicit Splitter(std::string_view in) : state(0x9e3779b97f4a7c15ull) {
    for (unsigned char c : in) state = (state ^ c) * 0x100000001b3ull;  // FNV-1a style
  }
  size_t Next(size_t max) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    // Mostly tiny pieces (1..8 bytes: the interesting boundaries), sometimes large ones.
    const size_t n = (z & 3) != 0 ? 1 + (z >> 8) % 8 : 1 + (z >> 8) % 512;
    return std::min(n, max);
  }
};

std::string Show(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void CheckError(const ParseError& err, const char* where) {
  const int s = err.status;
  FUZZ_CHECK(s == 400 || s == 408 || s == 413 || s == 417 || s == 431 || s == 501 || s == 505,
             std::string(where) + ": unexpected status " + std::to_string(s));
  FUZZ_CHECK(!err.code.empty(), std::string(where) + ": empty error code");
  FUZZ_CHECK(!err.message.empty(), std::string(where) + ": empty error message");
}

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

void CheckDecodedText(std::string_view s, const char* what) {
  FUZZ_CHECK(s.find('\0') == std::string_view::npos, std::string("NUL byte in decoded ") + what);
}

// A parsed head must describe a well-formed request within `limits`.
void CheckHead(std::string_view data, const Limits& limits, const HttpRequest& req, size_t head_len,
               const BodyFraming& framing) {
  FUZZ_CHECK(head_len > 0 && head_len <= data.size(), "head_len out of range");
  size_t skip = 0;
  while (skip < head_len && (data[skip] == '\r' || data[skip] == '\n')) ++skip;
  FUZZ_CHECK(head_len - skip <= limits.max_header_bytes, "head longer than max_header_bytes");
  FUZZ_CHECK(data[head_len - 1] == '\n', "head does not end with a line feed");

  FUZZ_CHECK(!req.method.empty(), "empty method");
  for (unsigned char c : req.method) FUZZ_CHECK(IsTokenChar(c), "method is not a token");
  FUZZ_CHECK(!req.target.empty() && req.target.front() == '/', "target must start with '/'");
  for (unsigned char c : req.target) {
    FUZZ_CHECK(c > 0x20 && c != 0x7f, "control character or space in the target");
  }
  FUZZ_CHECK(!req.path.empty() && req.path.front() == '/', "path must start with '/'");
  FUZZ_CHECK(req.path.size() <= req.target.size(), "decoded path longer than the target");
  CheckDecodedText(req.path, "path");
  for (const auto& [k, v] : req.query) {
    CheckDecodedText(k, "query key");
    CheckDecodedText(v, "query value");
  }
  // The target parses on its own into the same path and query.
  std::string path, error;
  std::vector<std::pair<std::string, std::string>> query;
  FUZZ_CHECK(server::ParseTarget(req.target, &path, &query, &error),
             "ParseTarget rejects a target ParseHead accepted: " + error);
  FUZZ_CHECK(path == req.path && query == req.query, "ParseTarget disagrees with ParseHead");

  FUZZ_CHECK(req.headers.size() <= 100, "more than 100 headers accepted");
  bool has_length = false, has_te = false;
  for (const auto& [name, value] : req.headers) {
    FUZZ_CHECK(!name.empty(), "empty header name");
    for (unsigned char c : name) {
      FUZZ_CHECK(IsTokenChar(c) && !std::isupper(c), "header name not a lower-case token");
    }
    for (unsigned char c : value) {
      FUZZ_CHECK(c >= 0x20 ? c != 0x7f : c == '\t', "control character in header value");
    }
    if (!value.empty()) {
      FUZZ_CHECK(value.front() != ' ' && value.front() != '\t' && value.back() != ' ' &&
                     value.back() != '\t',
                 "header value not trimmed");
    }
    has_length |= name == "content-length";
    has_te |= name == "transfer-encoding";
  }
  FUZZ_CHECK(!(has_length && has_te), "Content-Length with Transfer-Encoding accepted (smuggling)");
  FUZZ_CHECK(framing.chunked == has_te, "chunked framing without Transfer-Encoding: chunked");
  FUZZ_CHECK(framing.content_length <= limits.max_body_bytes, "Content-Length over max_body_bytes");
  FUZZ_CHECK(has_length || framing.content_length == 0, "a length without Content-Length");
  if (framing.expect_continue) FUZZ_CHECK(req.Header("expect") != nullptr, "expect_continue");

  // The head is self-delimiting: it parses alone identically, one byte less needs more.
  HttpRequest again;
  size_t again_len = 0;
  BodyFraming again_framing;
  ParseError again_err;
  FUZZ_CHECK(server::ParseHead(data.substr(0, head_len), limits, &again, &again_len, &again_framing,
                               &again_err) == ParseStatus::kDone,
             "the head alone does not parse: " + again_err.message);
  FUZZ_CHECK(again_len == head_len && again.method == req.method && again.target == req.target &&
                 again.headers == req.headers && again_framing.chunked == framing.chunked &&
                 again_framing.content_length == framing.content_length &&
                 again_framing.keep_alive == framing.keep_alive,
             "the head alone parses differently");
  FUZZ_CHECK(server::ParseHead(data.substr(0, head_len - 1), limits, &again, &again_len,
                               &again_framing, &again_err) == ParseStatus::kNeedMore,
             "a head missing its last byte does not need more");
}

struct ChunkedResult {
  ParseStatus status = ParseStatus::kNeedMore;
  size_t pos = 0;  // bytes consumed
  std::string body;
  ParseError err;
};

// Decodes `data` as HttpServer does: the buffer grows by `piece` bytes at a time (all at
// once when split is null) and Feed resumes at `pos`.
ChunkedResult DecodeChunked(std::string_view data, size_t max_body, Splitter* split) {
  ChunkedDecoder dec(max_body);
  ChunkedResult r;
  size_t avail = 0;
  do {
    avail = split == nullptr ? data.size() : avail + split->Next(data.size() - avail);
    const size_t before = r.pos;
    r.status = dec.Feed(data.substr(0, avail), &r.pos, &r.body, &r.err);
    FUZZ_CHECK(r.pos >= before && r.pos <= avail, "Feed moved pos out of the buffer");
    FUZZ_CHECK(r.body.size() <= max_body, "decoded chunked body exceeds max_body");
    FUZZ_CHECK(r.body.size() <= r.pos, "decoded more bytes than consumed");
    if (r.status == ParseStatus::kError) CheckError(r.err, "ChunkedDecoder");
  } while (r.status == ParseStatus::kNeedMore && avail < data.size());
  return r;
}

// One connection's worth of requests: head, body, next head ... until input runs out.
void ParseConnection(std::string_view in, const Limits& limits) {
  for (size_t n = 0; n < kMaxPipelined && !in.empty(); ++n) {
    HttpRequest req;
    size_t head_len = 0;
    BodyFraming framing;
    ParseError err;
    const ParseStatus st = server::ParseHead(in, limits, &req, &head_len, &framing, &err);
    if (st == ParseStatus::kNeedMore) return;
    if (st == ParseStatus::kError) {
      CheckError(err, "ParseHead");
      return;
    }
    CheckHead(in, limits, req, head_len, framing);
    in.remove_prefix(head_len);
    if (!framing.chunked) {
      if (in.size() < framing.content_length) return;
      in.remove_prefix(framing.content_length);
      continue;
    }
    const ChunkedResult whole = DecodeChunked(in, limits.max_body_bytes, nullptr);
    Splitter split(in);
    const ChunkedResult pieces = DecodeChunked(in, limits.max_body_bytes, &split);
    // Where the bytes arrive in one piece, TCP segmentation must not change the outcome.
    // Exception: a chunk-size line over the 1 KiB line limit is refused only while it is
    // incomplete, so a split delivery may fail where a whole one succeeds.
    const bool long_line_refusal =
        pieces.status == ParseStatus::kError && pieces.err.message == "chunk size line too long";
    if (!long_line_refusal) {
      FUZZ_CHECK(whole.status == pieces.status,
                 "split delivery changes the chunked status: " + whole.err.message + " / " +
                     pieces.err.message + " on \"" + Show(in) + "\"");
      if (whole.status == ParseStatus::kDone) {
        FUZZ_CHECK(whole.pos == pieces.pos && whole.body == pieces.body,
                   "split delivery changes the decoded body");
      } else if (whole.status == ParseStatus::kError) {
        FUZZ_CHECK(whole.err.status == pieces.err.status, "split delivery changes the error");
      }
    }
    if (whole.status != ParseStatus::kDone) return;
    in.remove_prefix(whole.pos);
  }
}

void FuzzOne(std::string_view in) {
  Limits defaults;
  ParseConnection(in, defaults);

  Limits small;
  small.max_header_bytes = 96;
  small.max_body_bytes = 32;
  ParseConnection(in, small);

  Limits tiny;  // zero-size body limit: every body is refused
  tiny.max_header_bytes = 1;
  tiny.max_body_bytes = 0;
  ParseConnection(in, tiny);

  // The first line as a raw target (ParseTarget sees targets ParseHead did not vet).
  std::string_view target = in.substr(0, in.find('\n'));
  std::string path, error;
  std::vector<std::pair<std::string, std::string>> query;
  if (server::ParseTarget(target, &path, &query, &error)) {
    FUZZ_CHECK(path.size() <= target.size(), "decoded path longer than the target");
    CheckDecodedText(path, "path");
    for (const auto& [k, v] : query) {
      CheckDecodedText(k, "query key");
      CheckDecodedText(v, "query value");
    }
  } else {
    FUZZ_CHECK(!error.empty(), "ParseTarget failed without a message");
  }
}

}  // namespace
}  // namespace mnemo::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  mnemo::fuzz::NoThrow("http request parsing", [&] { mnemo::fuzz::FuzzOne(in); });
  return 0;
}
