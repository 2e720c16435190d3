#include "server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/errors.h"
#include "server/http_parser.h"
#include "server/local_socket.h"

namespace mnemo::server {
namespace {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

constexpr uint64_t kListenerTag = 0;
constexpr uint64_t kWakeTag = 1;
constexpr uint64_t kLocalListenerTag = 2;  // the data directory's Unix socket
constexpr size_t kReadChunk = 64 * 1024;
constexpr auto kSweepEvery = std::chrono::milliseconds(100);

int64_t MicrosSince(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t).count();
}

std::string Serialize(const HttpResponse& r, bool keep_alive, bool head_only) {
  std::string out;
  out.reserve(160 + r.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += StatusReason(r.status);
  out += "\r\n";
  if (!r.body.empty() || r.status == 200) {
    out += "Content-Type: ";
    out += r.content_type;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(r.body.size());
  out += keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
  for (const auto& [k, v] : r.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "\r\n";
  if (!head_only) out += r.body;
  return out;
}

HttpResponse Overloaded(std::string message) {
  HttpResponse r = ErrorResponse(ApiError{503, "overloaded", std::move(message), ""});
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

std::string PeerAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

}  // namespace

struct HttpServer::Impl {
  enum class Phase { kReading, kBody, kHandling, kWriting };

  struct Conn {
    int fd = -1;
    uint64_t id = 0;
    std::string remote;
    bool local = false;  // accepted on the Unix socket
    std::string in;
    std::string out;
    size_t out_off = 0;
    Phase phase = Phase::kReading;
    HttpRequest req;
    BodyFraming framing;
    size_t body_pos = 0;
    std::optional<ChunkedDecoder> chunked;
    bool close_after_write = false;
    bool peer_closed = false;
    bool started = false;  // a request's first byte arrived
    TimePoint request_start;
    TimePoint last_activity;
    uint32_t events = 0;
  };

  struct Job {
    uint64_t conn_id;
    HttpRequest req;
    bool keep_alive;
    TimePoint start;
    TimePoint queued;
  };

  struct Completion {
    uint64_t conn_id;
    HttpResponse response;
    bool keep_alive;
    bool head_only;
  };

  Limits limits;
  Handler handler;
  Observer observer;
  int listen_fd = -1;
  int local_fd = -1;       // ListenLocal's socket, or -1
  Limits local_limits;     // its requests' sizes
  std::string local_path;  // its file, removed when it closes
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread loop_thread;
  std::vector<std::thread> workers;

  // Loop-thread state.
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns;
  uint64_t next_id = 3;
  bool draining = false;
  TimePoint drain_deadline;

  // Shared state.
  std::mutex mu;
  std::condition_variable work_cv;
  std::deque<Job> jobs;
  bool workers_stop = false;
  std::vector<Completion> done;
  std::atomic<bool> stop_requested{false};
  std::atomic<int64_t> drain_ms{10000};
  std::atomic<size_t> n_conns{0}, n_queued{0}, n_in_flight{0};
  bool running = false;

  ~Impl() {
    if (listen_fd >= 0) close(listen_fd);
    CloseLocal();
    if (epoll_fd >= 0) close(epoll_fd);
    if (wake_fd >= 0) close(wake_fd);
    for (auto& [id, c] : conns) close(c->fd);
  }

  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd, &one, sizeof one);
  }

  void SetInterest(Conn* c, uint32_t events) {
    if (c->events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c->id;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
  }

  void CloseConn(uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, it->second->fd, nullptr);
    close(it->second->fd);
    conns.erase(it);
    n_conns.store(conns.size());
  }

  void CloseLocal() {
    if (local_fd < 0) return;
    if (epoll_fd >= 0) epoll_ctl(epoll_fd, EPOLL_CTL_DEL, local_fd, nullptr);
    close(local_fd);
    local_fd = -1;
    unlink(local_path.c_str());
  }

  // --- loop thread ---------------------------------------------------------------

  void Accept(bool local) {
    for (;;) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      int fd = accept4(local ? local_fd : listen_fd, reinterpret_cast<sockaddr*>(&ss), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of descriptors: retried on the next event
      int one = 1;
      if (!local) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (conns.size() >= limits.max_connections) {
        std::string bytes = Serialize(Overloaded("too many open connections (limit " +
                                                 std::to_string(limits.max_connections) + ")"),
                                      false, false);
        [[maybe_unused]] ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        close(fd);
        if (observer) observer(AccessRecord{"", "", "", PeerAddress(ss), "", 503, 0, 0, 0});
        continue;
      }
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->id = next_id++;
      c->remote = local ? "local" : PeerAddress(ss);
      c->local = local;
      c->last_activity = SteadyClock::now();
      c->events = EPOLLIN;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = c->id;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        continue;
      }
      conns.emplace(c->id, std::move(c));
      n_conns.store(conns.size());
    }
  }

  void OnEvent(uint64_t id, uint32_t events) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    Conn* c = it->second.get();
    if (events & (EPOLLERR | EPOLLHUP)) {
      if (c->phase == Phase::kHandling) {
        // The peer is gone while a worker answers it: stop watching the socket (a hang-up
        // cannot be masked), and close when the answer arrives.
        c->peer_closed = true;
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
        return;
      }
      CloseConn(id);
      return;
    }
    if (events & EPOLLOUT) {
      if (!Flush(c)) return;
    }
    if (events & EPOLLIN) Read(c);
  }

  void Read(Conn* c) {
    if (c->phase == Phase::kHandling || c->phase == Phase::kWriting) return;
    const Limits& l = c->local ? local_limits : limits;
    const size_t cap = l.max_header_bytes + l.max_body_bytes + kReadChunk;
    char buf[kReadChunk];
    for (;;) {
      ssize_t n = recv(c->fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (!c->started) {
          c->started = true;
          c->request_start = SteadyClock::now();
        }
        c->in.append(buf, static_cast<size_t>(n));
        c->last_activity = SteadyClock::now();
        if (c->in.size() > cap) break;  // the parser rejects it below
        continue;
      }
      if (n == 0) {
        c->peer_closed = true;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      CloseConn(c->id);
      return;
    }
    const uint64_t id = c->id;
    Process(c);
    // The peer half-closed: nothing more will arrive. Keep the connection only while a
    // request is being answered.
    auto it = conns.find(id);
    if (it != conns.end() && it->second->peer_closed &&
        (it->second->phase == Phase::kReading || it->second->phase == Phase::kBody)) {
      CloseConn(id);
    }
  }

  // Parses what has arrived; dispatches a complete request.
  void Process(Conn* c) {
    if (c->phase == Phase::kReading) {
      if (c->in.empty()) return;
      if (draining) {
        CloseConn(c->id);
        return;
      }
      size_t head_len = 0;
      ParseError err;
      c->req = HttpRequest{};
      const Limits& l = c->local ? local_limits : limits;
      ParseStatus st = ParseHead(c->in, l, &c->req, &head_len, &c->framing, &err);
      if (st == ParseStatus::kNeedMore) return;
      if (st == ParseStatus::kError) return RespondError(c, err);
      c->req.remote = c->remote;
      c->req.local = c->local;
      c->body_pos = head_len;
      c->phase = Phase::kBody;
      if (c->framing.chunked) c->chunked.emplace(l.max_body_bytes);
      const bool body_pending =
          c->framing.chunked ? true : c->in.size() - head_len < c->framing.content_length;
      if (c->framing.expect_continue && body_pending) {
        static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        [[maybe_unused]] ssize_t n = send(c->fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL);
      }
    }
    if (c->phase != Phase::kBody) return;
    if (c->chunked) {
      ParseError err;
      ParseStatus st = c->chunked->Feed(c->in, &c->body_pos, &c->req.body, &err);
      if (st == ParseStatus::kNeedMore) return;
      if (st == ParseStatus::kError) return RespondError(c, err);
      c->chunked.reset();
    } else {
      if (c->in.size() - c->body_pos < c->framing.content_length) return;
      c->req.body.assign(c->in, c->body_pos, c->framing.content_length);
      c->body_pos += c->framing.content_length;
    }
    c->in.erase(0, c->body_pos);
    c->body_pos = 0;
    Dispatch(c);
  }

  void Dispatch(Conn* c) {
    c->phase = Phase::kHandling;
    SetInterest(c, 0);
    const bool keep_alive = c->framing.keep_alive && !draining;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (jobs.size() < limits.max_queue) {
        jobs.push_back(
            Job{c->id, std::move(c->req), keep_alive, c->request_start, SteadyClock::now()});
        n_queued.store(jobs.size());
        work_cv.notify_one();
        return;
      }
    }
    HttpResponse r = Overloaded("the server is overloaded (" + std::to_string(limits.max_queue) +
                                " requests waiting); retry shortly");
    Observe(c->req, r, c->request_start);
    Send(c, Serialize(r, keep_alive, c->req.method == "HEAD"), keep_alive);
  }

  void RespondError(Conn* c, const ParseError& err) {
    HttpResponse r = ErrorResponse(ApiError{err.status, err.code, err.message, ""});
    Observe(c->req, r, c->request_start);
    // The rest of the input cannot be framed: answer and close.
    Send(c, Serialize(r, false, false), false);
  }

  void Observe(const HttpRequest& req, const HttpResponse& r, TimePoint start) {
    if (!observer) return;
    observer(AccessRecord{req.method, req.path, r.route, req.remote, r.key_id, r.status,
                          req.body.size(), r.body.size(), MicrosSince(start)});
  }

  void Send(Conn* c, std::string bytes, bool keep_alive) {
    c->phase = Phase::kWriting;
    c->out = std::move(bytes);
    c->out_off = 0;
    c->close_after_write = !keep_alive || draining;
    c->last_activity = SteadyClock::now();
    Flush(c);
  }

  // Writes what it can; false when the connection was closed.
  bool Flush(Conn* c) {
    while (c->out_off < c->out.size()) {
      ssize_t n = send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c->out_off += static_cast<size_t>(n);
        c->last_activity = SteadyClock::now();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        SetInterest(c, EPOLLOUT);
        return true;
      }
      CloseConn(c->id);
      return false;
    }
    if (c->phase != Phase::kWriting) return true;
    if (c->close_after_write || c->peer_closed) {
      CloseConn(c->id);
      return false;
    }
    c->out.clear();
    c->out.shrink_to_fit();
    c->out_off = 0;
    c->phase = Phase::kReading;
    c->started = !c->in.empty();
    c->request_start = SteadyClock::now();
    SetInterest(c, EPOLLIN);
    Process(c);  // a pipelined request may already be buffered
    return conns.count(c->id) != 0;
  }

  void DrainCompletions() {
    uint64_t counter;
    [[maybe_unused]] ssize_t n = read(wake_fd, &counter, sizeof counter);
    std::vector<Completion> batch;
    {
      std::lock_guard<std::mutex> lock(mu);
      batch.swap(done);
    }
    for (auto& d : batch) {
      auto it = conns.find(d.conn_id);
      if (it == conns.end()) continue;
      Conn* c = it->second.get();
      // A peer that half-closed after its request may still read the answer: send it,
      // then close. So does a draining server.
      const bool keep_alive = d.keep_alive && !c->peer_closed && !draining;
      Send(c, Serialize(d.response, keep_alive, d.head_only), keep_alive);
    }
  }

  void Sweep() {
    const auto now = SteadyClock::now();
    const auto request_timeout = std::chrono::milliseconds(limits.request_timeout_ms);
    const auto idle_timeout = std::chrono::milliseconds(limits.idle_timeout_ms);
    std::vector<uint64_t> to_close;
    std::vector<Conn*> timed_out;
    for (auto& [id, c] : conns) {
      switch (c->phase) {
        case Phase::kReading:
          if (c->started && now - c->request_start > request_timeout) {
            timed_out.push_back(c.get());
          } else if (!c->started && (draining || now - c->last_activity > idle_timeout)) {
            to_close.push_back(id);
          }
          break;
        case Phase::kBody:
          if (now - c->request_start > request_timeout) timed_out.push_back(c.get());
          break;
        case Phase::kWriting:
          if (now - c->last_activity > request_timeout) to_close.push_back(id);
          break;
        case Phase::kHandling:
          break;
      }
    }
    for (Conn* c : timed_out) {
      ParseError err{408, "request_timeout",
                     "the request was not received within " +
                         std::to_string(limits.request_timeout_ms) + " ms"};
      RespondError(c, err);
    }
    for (uint64_t id : to_close) CloseConn(id);
  }

  void BeginDrain() {
    draining = true;
    drain_deadline = SteadyClock::now() + std::chrono::milliseconds(drain_ms.load());
    if (listen_fd >= 0) {
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
      close(listen_fd);
      listen_fd = -1;
    }
    CloseLocal();
    std::vector<uint64_t> idle;
    for (auto& [id, c] : conns) {
      if (c->phase == Phase::kReading || c->phase == Phase::kBody)
        idle.push_back(id);
      else
        c->close_after_write = true;
    }
    for (uint64_t id : idle) CloseConn(id);
  }

  void Loop() {
    std::vector<epoll_event> events(256);
    auto next_sweep = SteadyClock::now() + kSweepEvery;
    for (;;) {
      if (stop_requested.load() && !draining) BeginDrain();
      if (draining && (conns.empty() || SteadyClock::now() > drain_deadline)) break;
      int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                         static_cast<int>(kSweepEvery.count()));
      for (int i = 0; i < n; ++i) {
        const uint64_t tag = events[i].data.u64;
        if (tag == kListenerTag || tag == kLocalListenerTag) {
          if (!draining) Accept(tag == kLocalListenerTag);
        } else if (tag == kWakeTag) {
          DrainCompletions();
        } else {
          OnEvent(tag, events[i].events);
        }
      }
      if (SteadyClock::now() >= next_sweep) {
        Sweep();
        next_sweep = SteadyClock::now() + kSweepEvery;
      }
    }
    std::vector<uint64_t> rest;
    for (auto& [id, c] : conns) rest.push_back(id);
    for (uint64_t id : rest) CloseConn(id);
  }

  // --- workers -------------------------------------------------------------------

  void Work() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu);
        work_cv.wait(lock, [&] { return workers_stop || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
        n_queued.store(jobs.size());
      }
      n_in_flight.fetch_add(1);
      HttpResponse r;
      if (SteadyClock::now() - job.queued > std::chrono::milliseconds(limits.request_timeout_ms)) {
        r = Overloaded("the request waited more than " + std::to_string(limits.request_timeout_ms) +
                       " ms for a worker");
      } else {
        try {
          r = handler(job.req);
        } catch (const std::exception& e) {
          r = ErrorResponse(
              ApiError{500, "internal", std::string("internal error: ") + e.what(), ""});
        } catch (...) {
          r = ErrorResponse(ApiError{500, "internal", "internal error", ""});
        }
      }
      Observe(job.req, r, job.start);
      n_in_flight.fetch_sub(1);
      {
        std::lock_guard<std::mutex> lock(mu);
        done.push_back(
            Completion{job.conn_id, std::move(r), job.keep_alive, job.req.method == "HEAD"});
      }
      Wake();
    }
  }
};

HttpServer::HttpServer(Limits limits, Handler handler, Observer observer)
    : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->handler = std::move(handler);
  impl_->observer = std::move(observer);
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Listen(const std::string& host, int port) {
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("port " + std::to_string(port) + " is out of range 0..65535");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return Status::InvalidArgument("cannot resolve host '" + host + "': " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
      impl_->listen_fd = fd;
      freeaddrinfo(res);
      return Status::Ok();
    }
    last_error = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(res);
  return Status::IOError("cannot listen on " + host + ":" + service + ": " + last_error);
}

Status HttpServer::ListenLocal(const std::string& path, const Limits& limits) {
  auto fd = server::ListenLocal(path);
  if (!fd.ok()) return fd.status();
  impl_->CloseLocal();
  impl_->local_fd = *fd;
  impl_->local_path = path;
  impl_->local_limits = limits;
  return Status::Ok();
}

Status HttpServer::Start() {
  Impl& m = *impl_;
  if (m.listen_fd < 0) return Status::FailedPrecondition("Start() before a successful Listen()");
  m.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  m.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (m.epoll_fd < 0 || m.wake_fd < 0) {
    return Status::IOError(std::string("epoll/eventfd: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerTag;
  epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.listen_fd, &ev);
  ev.data.u64 = kWakeTag;
  epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.wake_fd, &ev);
  if (m.local_fd >= 0) {
    ev.data.u64 = kLocalListenerTag;
    epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.local_fd, &ev);
  }
  int n = m.limits.workers > 0 ? m.limits.workers
                               : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) m.workers.emplace_back([&m] { m.Work(); });
  m.loop_thread = std::thread([&m] { m.Loop(); });
  m.running = true;
  return Status::Ok();
}

void HttpServer::Stop(std::chrono::milliseconds drain) {
  Impl& m = *impl_;
  if (!m.running) return;
  m.running = false;
  m.drain_ms.store(drain.count());
  m.stop_requested.store(true);
  m.Wake();
  m.loop_thread.join();
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.workers_stop = true;
  }
  m.work_cv.notify_all();
  for (auto& t : m.workers) t.join();
  m.workers.clear();
}

ServerStats HttpServer::stats() const {
  return ServerStats{impl_->n_conns.load(), impl_->n_queued.load(), impl_->n_in_flight.load()};
}

}  // namespace mnemo::server
