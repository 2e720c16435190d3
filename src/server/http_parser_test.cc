#include "server/http_parser.h"

#include <gtest/gtest.h>

namespace mnemo::server {
namespace {

struct Parsed {
  ParseStatus status;
  HttpRequest req;
  size_t head_len = 0;
  BodyFraming framing;
  ParseError err;
};

Parsed Parse(std::string_view data, Limits limits = {}) {
  Parsed p;
  p.status = ParseHead(data, limits, &p.req, &p.head_len, &p.framing, &p.err);
  return p;
}

TEST(HttpParserTest, ParsesRequestLineHeadersAndQuery) {
  const std::string head =
      "GET /v1/spaces/my%20space/memories?user=maya&tag=a+b&tag=c%2Fd&flag HTTP/1.1\r\n"
      "Host: localhost\r\nX-Thing:  spaced value  \r\n\r\n";
  Parsed p = Parse(head + "rest");
  ASSERT_EQ(p.status, ParseStatus::kDone) << p.err.message;
  EXPECT_EQ(p.head_len, head.size());
  EXPECT_EQ(p.req.method, "GET");
  EXPECT_EQ(p.req.path, "/v1/spaces/my space/memories");
  ASSERT_EQ(p.req.query.size(), 4u);
  EXPECT_EQ(p.req.query[1], (std::pair<std::string, std::string>{"tag", "a b"}));
  EXPECT_EQ(p.req.query[2].second, "c/d");
  EXPECT_EQ(p.req.query[3], (std::pair<std::string, std::string>{"flag", ""}));
  ASSERT_NE(p.req.Header("x-thing"), nullptr);
  EXPECT_EQ(*p.req.Header("x-thing"), "spaced value");
  EXPECT_EQ(*p.req.Query("user"), "maya");
  EXPECT_TRUE(p.framing.keep_alive);
  EXPECT_FALSE(p.framing.chunked);
}

TEST(HttpParserTest, IncompleteHeadNeedsMoreAtEveryPrefix) {
  const std::string head = "POST /v1/x HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
  for (size_t n = 0; n < head.size(); ++n) {
    EXPECT_EQ(Parse(head.substr(0, n)).status, ParseStatus::kNeedMore) << n;
  }
  Parsed p = Parse(head);
  ASSERT_EQ(p.status, ParseStatus::kDone);
  EXPECT_EQ(p.framing.content_length, 5u);
}

TEST(HttpParserTest, ConnectionSemantics) {
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").framing.keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n").framing.keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").framing.keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n").framing.expect_continue);
}

TEST(HttpParserTest, RejectsMalformedAndSmuggledRequests) {
  struct Case {
    std::string data;
    int status;
  };
  const Case cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"GET /a b HTTP/1.1\r\n\r\n", 400},
      {"GET http://evil/ HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / FTP/1.0\r\n\r\n", 400},
      {"G@T / HTTP/1.1\r\n\r\n", 400},
      {"GET /%zz HTTP/1.1\r\n\r\n", 400},
      {"GET /%0 HTTP/1.1\r\n\r\n", 400},
      {"GET /a%00b HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nNo-Colon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nExpect: something\r\n\r\n", 417},
      {"GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    Parsed p = Parse(c.data);
    EXPECT_EQ(p.status, ParseStatus::kError) << c.data;
    EXPECT_EQ(p.err.status, c.status) << c.data;
    EXPECT_FALSE(p.err.message.empty());
  }
}

TEST(HttpParserTest, EnforcesHeadAndBodyLimits) {
  Limits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 100;
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a');
  Parsed p = Parse(big, limits);  // incomplete but already too large
  EXPECT_EQ(p.status, ParseStatus::kError);
  EXPECT_EQ(p.err.status, 431);
  p = Parse(big + "\r\n\r\n", limits);
  EXPECT_EQ(p.err.status, 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Parse(many + "\r\n").err.status, 431);
  p = Parse("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", limits);
  EXPECT_EQ(p.err.status, 413);
  EXPECT_EQ(p.err.code, "too_large");
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n", limits).status,
            ParseStatus::kDone);
}

TEST(HttpParserTest, ChunkedBodyDecodesFedOneByteAtATime) {
  const std::string body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  ChunkedDecoder d(1000);
  std::string out;
  ParseError err;
  size_t pos = 0;
  ParseStatus st = ParseStatus::kNeedMore;
  for (size_t n = 1; n <= body.size() && st == ParseStatus::kNeedMore; ++n) {
    st = d.Feed(std::string_view(body).substr(0, n), &pos, &out, &err);
  }
  ASSERT_EQ(st, ParseStatus::kDone) << err.message;
  EXPECT_EQ(out, "hello, world");
  EXPECT_EQ(body.substr(pos), "NEXT");
}

TEST(HttpParserTest, ChunkedBodyErrors) {
  auto feed = [](const std::string& data, size_t max) {
    ChunkedDecoder d(max);
    std::string out;
    ParseError err;
    size_t pos = 0;
    ParseStatus st = d.Feed(data, &pos, &out, &err);
    return std::make_pair(st, err.status);
  };
  EXPECT_EQ(feed("zz\r\n", 100), std::make_pair(ParseStatus::kError, 400));
  EXPECT_EQ(feed("5\r\nhelloXX", 100), std::make_pair(ParseStatus::kError, 400));
  EXPECT_EQ(feed("65\r\n", 100), std::make_pair(ParseStatus::kError, 413));
  EXPECT_EQ(feed("ffffffffffffffffff\r\n", 100).first, ParseStatus::kError);
  EXPECT_EQ(feed("3\r\nabc\r\n3\r\nabc\r\n", 5), std::make_pair(ParseStatus::kError, 413));
  EXPECT_EQ(feed(std::string(2000, '1'), 100).first, ParseStatus::kError);
}

}  // namespace
}  // namespace mnemo::server

namespace mnemo::server {
namespace {

// Regression (found by fuzz_http_request): the Transfer-Encoding value was read through a
// pointer into the header vector after later headers had reallocated it.
TEST(HttpParserTest, TransferEncodingFollowedByManyHeaders) {
  std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n";
  for (int i = 0; i < 40; ++i) head += "H" + std::to_string(i) + ": v\r\n";
  Parsed p = Parse(head + "\r\n");
  ASSERT_EQ(p.status, ParseStatus::kDone) << p.err.message;
  EXPECT_TRUE(p.framing.chunked);
}

// Regression (found by fuzz_http_request): an over-long chunk-size line was refused when
// it arrived in pieces but accepted when it arrived whole.
TEST(HttpParserTest, LongChunkSizeLineIsRefusedHoweverItArrives) {
  const std::string body = std::string(1100, '0') + "1\r\na\r\n0\r\n\r\n";
  ChunkedDecoder whole(1000);
  std::string out;
  ParseError err;
  size_t pos = 0;
  EXPECT_EQ(whole.Feed(body, &pos, &out, &err), ParseStatus::kError);
  EXPECT_EQ(err.status, 400);
}

}  // namespace
}  // namespace mnemo::server
