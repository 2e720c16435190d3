#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace mnemo::server {
namespace {

using namespace std::chrono_literals;

// A blocking loopback client that speaks raw bytes.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Reads until `n` complete responses arrived (by Content-Length), EOF, or timeout.
  std::string ReadResponses(int n, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (CountComplete() < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[65536];
      ssize_t got = recv(fd_, buf, sizeof buf, 0);
      if (got <= 0) {
        eof_ = true;
        break;
      }
      data_.append(buf, static_cast<size_t>(got));
    }
    std::string out;
    out.swap(data_);
    return out;
  }
  std::string ReadResponse() { return ReadResponses(1); }
  // Whatever arrives within `timeout`.
  std::string ReadSome(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) > 0) {
      char buf[65536];
      ssize_t got = recv(fd_, buf, sizeof buf, 0);
      if (got > 0) data_.append(buf, static_cast<size_t>(got));
    }
    std::string out;
    out.swap(data_);
    return out;
  }
  // True when the server closed the connection (within the timeout).
  bool Closed(std::chrono::milliseconds timeout = 3s) {
    if (eof_) return true;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[4096];
    ssize_t got = recv(fd_, buf, sizeof buf, 0);
    if (got > 0) data_.append(buf, static_cast<size_t>(got));
    return got == 0 || (got < 0 && errno == ECONNRESET);
  }

 private:
  int CountComplete() const {
    int count = 0;
    size_t pos = 0;
    for (;;) {
      size_t end = data_.find("\r\n\r\n", pos);
      if (end == std::string::npos) return count;
      if (data_.compare(pos, 12, "HTTP/1.1 100") == 0) {
        pos = end + 4;
        continue;
      }
      size_t cl = data_.find("Content-Length: ", pos);
      size_t len = cl < end ? std::stoul(data_.substr(cl + 16)) : 0;
      if (data_.size() < end + 4 + len) return count;
      ++count;
      pos = end + 4 + len;
    }
  }
  int fd_;
  bool connected_ = false;
  bool eof_ = false;
  std::string data_;
};

int StatusOf(const std::string& response) {
  return response.size() >= 12 ? std::stoi(response.substr(9, 3)) : 0;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(Limits limits = {}) {
    if (limits.workers == 0) limits.workers = 2;
    server_ = std::make_unique<HttpServer>(
        limits,
        [this](const HttpRequest& r) {
          HttpResponse resp;
          if (r.path == "/block") {
            std::unique_lock<std::mutex> lock(mu_);
            ++blocked_;
            cv_.notify_all();
            cv_.wait(lock, [this] { return released_; });
          }
          resp.body = r.method + " " + r.path + " [" + r.body + "]";
          resp.content_type = "text/plain";
          resp.route = "/test";
          return resp;
        },
        [this](const AccessRecord& rec) {
          std::lock_guard<std::mutex> lock(mu_);
          records_.push_back(rec);
        });
    ASSERT_TRUE(server_->Listen("127.0.0.1", 0).ok());
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }
  void WaitBlocked(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return blocked_ >= n; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  void TearDown() override {
    Release();
    if (server_) server_->Stop();
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int blocked_ = 0;
  bool released_ = false;
  std::vector<AccessRecord> records_;
};

TEST_F(HttpServerTest, KeepAliveAndPipelining) {
  StartServer();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  c.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_NE(r.find("Connection: keep-alive"), std::string::npos);
  EXPECT_NE(r.find("GET /a []"), std::string::npos);
  // Two requests in one write, answered in order on the same connection.
  c.Send("POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\n\r\n");
  r = c.ReadResponses(2);
  size_t b = r.find("POST /b [xyz]"), cpos = r.find("GET /c []");
  ASSERT_NE(b, std::string::npos) << r;
  ASSERT_NE(cpos, std::string::npos) << r;
  EXPECT_LT(b, cpos);
  // HEAD: headers only.
  c.Send("HEAD /h HTTP/1.1\r\n\r\n");
  r = c.ReadResponses(1, 300ms);
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(r.find("HEAD /h"), std::string::npos);
}

TEST_F(HttpServerTest, ChunkedBodyAndExpectContinue) {
  StartServer();
  Client c(port_);
  c.Send("POST /chunk HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
  std::this_thread::sleep_for(50ms);
  c.Send("2\r\nef\r\n0\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("POST /chunk [abcdef]"), std::string::npos);
  c.Send("POST /e HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  std::string interim = c.ReadSome(1s);
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << interim;
  c.Send("ok");
  EXPECT_NE(c.ReadResponse().find("POST /e [ok]"), std::string::npos);
}

TEST_F(HttpServerTest, BadRequestsGetJsonErrorsAndClose) {
  Limits limits;
  limits.max_body_bytes = 1000;
  StartServer(limits);
  {
    Client c(port_);
    c.Send("BROKEN\r\n\r\n");
    std::string r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 400);
    EXPECT_NE(r.find("\"code\":\"malformed_request\""), std::string::npos) << r;
    EXPECT_NE(r.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(c.Closed());
  }
  {
    // Rejected from its Content-Length, before the body is sent.
    Client c(port_);
    c.Send("POST /big HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
    std::string r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 413);
    EXPECT_NE(r.find("\"code\":\"too_large\""), std::string::npos) << r;
  }
  {
    Client c(port_);
    c.Send("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 431);
  }
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(records_.size(), 3u);
  EXPECT_EQ(records_[1].status, 413);
}

TEST_F(HttpServerTest, SlowRequestTimesOutAndIdleConnectionCloses) {
  Limits limits;
  limits.request_timeout_ms = 200;
  limits.idle_timeout_ms = 300;
  StartServer(limits);
  Client slow(port_);
  slow.Send("POST /slow HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");  // never finishes
  std::string r = slow.ReadResponse();
  EXPECT_EQ(StatusOf(r), 408) << r;
  EXPECT_TRUE(slow.Closed());
  Client idle(port_);
  idle.Send("GET /once HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusOf(idle.ReadResponse()), 200);
  EXPECT_TRUE(idle.Closed(2s));  // idle past 300 ms
  // The server still serves new connections.
  Client after(port_);
  after.Send("GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusOf(after.ReadResponse()), 200);
}

TEST_F(HttpServerTest, ShedsLoadWith503WhenTheQueueIsFull) {
  Limits limits;
  limits.workers = 1;
  limits.max_queue = 1;
  StartServer(limits);
  Client busy(port_), queued(port_), shed(port_);
  busy.Send("GET /block HTTP/1.1\r\n\r\n");
  WaitBlocked(1);
  queued.Send("GET /q HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  const auto t0 = std::chrono::steady_clock::now();
  shed.Send("GET /s HTTP/1.1\r\n\r\n");
  std::string r = shed.ReadResponse();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(StatusOf(r), 503) << r;
  EXPECT_NE(r.find("Retry-After: 1"), std::string::npos);
  EXPECT_NE(r.find("\"code\":\"overloaded\""), std::string::npos);
  Release();
  EXPECT_EQ(StatusOf(busy.ReadResponse()), 200);
  EXPECT_EQ(StatusOf(queued.ReadResponse()), 200);
  // The shed connection stays usable.
  shed.Send("GET /again HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusOf(shed.ReadResponse()), 200);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreRefused) {
  Limits limits;
  limits.max_connections = 3;
  StartServer(limits);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Client>(port_));
    held.back()->Send("GET /h HTTP/1.1\r\n\r\n");
    EXPECT_EQ(StatusOf(held.back()->ReadResponse()), 200);
  }
  Client extra(port_);
  EXPECT_EQ(StatusOf(extra.ReadResponse()), 503);
  held.pop_back();
  std::this_thread::sleep_for(200ms);
  Client again(port_);
  again.Send("GET /h HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusOf(again.ReadResponse()), 200);
}

TEST_F(HttpServerTest, HoldsManyIdleConnections) {
  StartServer();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 500; ++i) clients.push_back(std::make_unique<Client>(port_));
  for (auto& c : clients) c->Send("GET /x HTTP/1.1\r\n\r\n");
  int ok = 0;
  for (auto& c : clients) ok += StatusOf(c->ReadResponse()) == 200;
  EXPECT_EQ(ok, 500);
  EXPECT_EQ(server_->stats().connections, 500u);
}

TEST_F(HttpServerTest, StopFinishesInFlightRequests) {
  StartServer();
  Client inflight(port_), idle(port_);
  idle.Send("GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusOf(idle.ReadResponse()), 200);
  inflight.Send("GET /block HTTP/1.1\r\n\r\n");
  WaitBlocked(1);
  std::thread stopper([&] { server_->Stop(); });
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(idle.Closed());  // idle connections are closed at once
  Release();
  std::string r = inflight.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  stopper.join();
  Client late(port_);
  EXPECT_FALSE(late.connected());
}

}  // namespace
}  // namespace mnemo::server
