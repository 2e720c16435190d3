// mnemo_http_bench: load benchmark of `mnemo serve`'s HTTP face (see docs/benchmarks.md).
//
//   mnemo_http_bench [--n=100000] [--users=100] [--connections=64] [--seconds=10]
//                    [--hold=1000] [--workers=0] [--dir=/tmp/mnemo-http-bench]
//                    [--wrk=wrk]
//
// Loads --n synthetic conversation memories of --users users into space "bench"
// (Engine::AddBatch, then waits for the vector index), starts the server exactly as
// `mnemo serve` runs it (App + HttpServer, no keys, loopback, access log off) on a free
// port, and drives it with our own epoll client: --connections keep-alive connections,
// each sending its next request as soon as the previous answer arrived, for --seconds.
//   healthz  GET /healthz: the HTTP overhead baseline, in the same run
//   search   POST /v1/spaces/bench/search {"query", "user", "k": 10}: queries from the
//            same distribution as the data, each for a random user (so each search
//            covers one user's n/users memories)
//   hold     --hold connections opened and kept, each sends GET /healthz, all are held
//            idle for 3 s, then each sends GET /healthz again; every answer must be 200.
//   wrk      the same search and healthz loads from an independent generator, wrk (Debian
//            package wrk; one thread, --connections connections, a Lua script cycling
//            through the same bodies); --wrk=none skips it, --wrk=PATH picks the binary.
// Client and server share the machine's cores; the figures are for both together.
// Output: markdown table rows on stdout, progress on stderr.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/synth.h"
#include "mnemo/engine.h"
#include "server/app.h"
#include "server/http_server.h"
#include "server/keys.h"
#include "util/json_codec.h"

namespace {

using Clock = std::chrono::steady_clock;
using mnemo::bench::ConversationGenerator;
using mnemo::bench::ConversationOptions;
using mnemo::bench::QueryGenerator;

struct Flags {
  int64_t n = 100000;
  int users = 100;
  int connections = 64;
  double seconds = 10;
  int hold = 1000;
  int workers = 0;
  std::string dir = "/tmp/mnemo-http-bench";
  std::string wrk = "wrk";
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) return false;
    std::string name = a.substr(2, eq - 2), v = a.substr(eq + 1);
    try {
      if (name == "n")
        f->n = std::stoll(v);
      else if (name == "users")
        f->users = std::max(1, std::stoi(v));
      else if (name == "connections")
        f->connections = std::max(1, std::stoi(v));
      else if (name == "seconds")
        f->seconds = std::stod(v);
      else if (name == "hold")
        f->hold = std::stoi(v);
      else if (name == "workers")
        f->workers = std::stoi(v);
      else if (name == "dir")
        f->dir = v;
      else if (name == "wrk")
        f->wrk = v;
      else
        return false;
    } catch (...) {
      return false;
    }
  }
  return true;
}

std::string Request(const std::string& method, const std::string& path, const std::string& body) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty()) {
    r +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

// One client connection: sends a request, reads one response, repeats.
struct Conn {
  int fd = -1;
  std::string in;
  std::string out;
  size_t out_off = 0;
  Clock::time_point sent;
  bool waiting = false;
  bool watching_out = false;  // EPOLLOUT asked for
};

// Parses one complete response at the start of `in`; returns its length or 0.
size_t CompleteResponse(const std::string& in, int* status) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  size_t cl = in.find("Content-Length: ");
  if (cl == std::string::npos || cl > end) return 0;
  size_t len = std::strtoul(in.c_str() + cl + 16, nullptr, 10);
  if (in.size() < end + 4 + len) return 0;
  *status = std::atoi(in.c_str() + 9);
  return end + 4 + len;
}

struct RunResult {
  int64_t ok = 0;
  int64_t errors = 0;  // non-200 answers, resets, timeouts
  double seconds = 0;
  std::vector<double> latencies_ms;
  double Rate() const { return static_cast<double>(ok + errors) / seconds; }
  double Percentile(double p) {
    if (latencies_ms.empty()) return 0;
    std::sort(latencies_ms.begin(), latencies_ms.end());
    size_t i = std::min(latencies_ms.size() - 1,
                        static_cast<size_t>(p * static_cast<double>(latencies_ms.size())));
    return latencies_ms[i];
  }
};

// Drives `conns` (already connected) with requests from `next` until `seconds` pass
// (then waits for the answers in flight) or, with `rounds` > 0, until every connection
// made `rounds` requests.
RunResult Drive(std::vector<Conn>& conns, const std::function<std::string()>& next, double seconds,
                int rounds) {
  RunResult r;
  int ep = epoll_create1(0);
  // Readiness to write is asked for only while a request is partly sent: a level-triggered
  // EPOLLOUT on idle sockets would spin this client on a core the server needs.
  auto watch = [&](size_t i, int op, bool out) {
    epoll_event ev{};
    ev.events = out ? uint32_t{EPOLLIN | EPOLLOUT} : uint32_t{EPOLLIN};
    ev.data.u64 = i;
    epoll_ctl(ep, op, conns[i].fd, &ev);
  };
  for (size_t i = 0; i < conns.size(); ++i) watch(i, EPOLL_CTL_ADD, false);
  // Sends what remains of conns[i]'s request; watches for writability while some is left.
  auto flush = [&](size_t i) {
    Conn& c = conns[i];
    while (c.out_off < c.out.size()) {
      ssize_t w = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w <= 0) break;
      c.out_off += static_cast<size_t>(w);
    }
    const bool partial = c.out_off < c.out.size();
    if (partial != c.watching_out) {
      watch(i, EPOLL_CTL_MOD, partial);
      c.watching_out = partial;
    }
  };
  std::vector<int> done(conns.size(), 0);
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration<double>(seconds);
  size_t active = conns.size();
  auto send_next = [&](size_t i) {
    Conn& c = conns[i];
    if ((rounds > 0 && done[i] >= rounds) || (rounds == 0 && Clock::now() >= stop) || c.fd < 0) {
      --active;
      return;
    }
    c.out = next();
    c.out_off = 0;
    c.sent = Clock::now();
    c.waiting = true;
    flush(i);
  };
  for (size_t i = 0; i < conns.size(); ++i) send_next(i);
  std::vector<epoll_event> events(512);
  char buf[65536];
  while (active > 0) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    if (n == 0 && Clock::now() > stop + std::chrono::seconds(30)) break;  // a hang is an error
    for (int e = 0; e < n; ++e) {
      size_t i = events[e].data.u64;
      Conn& c = conns[i];
      if (c.fd < 0 || !c.waiting) continue;
      if (c.out_off < c.out.size()) flush(i);
      ssize_t got;
      while ((got = recv(c.fd, buf, sizeof buf, 0)) > 0) c.in.append(buf, static_cast<size_t>(got));
      int status = 0;
      size_t len = CompleteResponse(c.in, &status);
      if (len > 0) {
        c.in.erase(0, len);
        c.waiting = false;
        r.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - c.sent).count());
        (status == 200 ? r.ok : r.errors)++;
        ++done[i];
        send_next(i);
      } else if (got == 0 || (got < 0 && errno != EAGAIN)) {
        ++r.errors;  // the server closed or reset the connection
        close(c.fd);
        c.fd = -1;
        c.waiting = false;
        --active;
      }
    }
  }
  for (auto& c : conns) {
    if (c.waiting) ++r.errors;  // never answered
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  close(ep);
  return r;
}

std::vector<Conn> Open(int port, int count) {
  std::vector<Conn> conns(static_cast<size_t>(count));
  for (auto& c : conns) c.fd = Connect(port);
  return conns;
}

void CloseAll(std::vector<Conn>& conns) {
  for (auto& c : conns) {
    if (c.fd >= 0) close(c.fd);
  }
}

void Row(const std::string& figure, const std::string& measured, const std::string& baseline) {
  std::printf("| %s | %s | %s |\n", figure.c_str(), measured.c_str(), baseline.c_str());
  std::fflush(stdout);
}

// A duration of wrk's output ("812.00us", "1.20ms", "2.01s") in ms; -1 if unreadable.
double WrkMs(const std::string& v) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  const std::string unit = end ? std::string(end) : "";
  if (unit == "us") return x / 1000;
  if (unit == "ms") return x;
  if (unit == "s") return x * 1000;
  return -1;
}

// Runs wrk against http://127.0.0.1:port with a script cycling through `bodies` (POSTed
// to `path`; GET when there are none) and describes its result like Describe.
std::string RunWrk(const Flags& f, int port, const std::string& path,
                   const std::vector<std::string>& bodies) {
  const std::string script = f.dir + "/wrk.lua";
  {
    std::FILE* out = std::fopen(script.c_str(), "w");
    if (out == nullptr) return "cannot write " + script;
    std::fprintf(out, "local bodies = {\n");
    for (const auto& b : bodies) std::fprintf(out, "[==[%s]==],\n", b.c_str());
    std::fprintf(out,
                 "}\nlocal i = 0\nlocal headers = {[\"Content-Type\"] = \"application/json\"}\n"
                 "request = function()\n"
                 "  if #bodies == 0 then return wrk.format(\"GET\", \"%s\") end\n"
                 "  i = i %% #bodies + 1\n"
                 "  return wrk.format(\"POST\", \"%s\", headers, bodies[i])\n"
                 "end\n",
                 path.c_str(), path.c_str());
    std::fclose(out);
  }
  char cmd[512];
  std::snprintf(cmd, sizeof cmd, "%s -t1 -c%d -d%.0fs --latency -s %s http://127.0.0.1:%d 2>&1",
                f.wrk.c_str(), f.connections, f.seconds, script.c_str(), port);
  std::FILE* p = popen(cmd, "r");
  if (p == nullptr) return "cannot run wrk";
  std::string out;
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  const int rc = pclose(p);
  double rate = -1, p50 = -1, p99 = -1;
  int64_t errors = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string a, b;
    words >> a >> b;
    if (a == "Requests/sec:") rate = std::strtod(b.c_str(), nullptr);
    if (a == "50%") p50 = WrkMs(b);
    if (a == "99%") p99 = WrkMs(b);
    if (a == "Non-2xx")
      errors += std::strtoll(line.substr(line.rfind(' ') + 1).c_str(), nullptr, 10);
    if (a == "Socket" && b == "errors:") {
      // "Socket errors: connect 0, read 0, write 0, timeout 0"
      for (std::string w; words >> w;) errors += std::strtoll(w.c_str(), nullptr, 10);
    }
  }
  if (rc != 0 || rate < 0)
    return "wrk failed (exit " + std::to_string(rc) + "): " + out.substr(0, 200);
  char d[256];
  std::snprintf(d, sizeof d, "%.0f req/s, p50 %.2f ms, p99 %.2f ms, %" PRId64 " errors (wrk)", rate,
                p50, p99, errors);
  return d;
}

std::string Describe(RunResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%.0f req/s, p50 %.2f ms, p99 %.2f ms, %" PRId64 " errors",
                r.Rate(), r.Percentile(0.5), r.Percentile(0.99), r.errors);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) {
    std::fprintf(stderr,
                 "usage: mnemo_http_bench [--n=100000] [--users=100] [--connections=64] "
                 "[--seconds=10] [--hold=1000] [--workers=0] [--dir=DIR] [--wrk=wrk|none]\n");
    return 1;
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::filesystem::remove_all(f.dir);
  mnemo::Options o;
  o.create_if_missing = true;
  auto engine = mnemo::Engine::Open(f.dir, o);
  if (!engine.ok() || !(*engine)->CreateSpace("bench").ok()) {
    std::fprintf(stderr, "cannot create %s\n", f.dir.c_str());
    return 1;
  }
  ConversationOptions co;
  co.users = f.users;
  ConversationGenerator gen(co);
  std::vector<std::string> corpus;
  std::fprintf(stderr, "loading %" PRId64 " memories of %d users...\n", f.n, f.users);
  for (int64_t done = 0; done < f.n;) {
    std::vector<mnemo::MemoryInput> batch;
    for (; done < f.n && batch.size() < 1000; ++done) {
      mnemo::bench::Turn t = gen.Next();
      mnemo::MemoryInput in;
      in.text = t.text;
      in.user_id = t.user;
      in.session_id = t.session;
      in.role = t.role;
      in.speaker = t.speaker;
      in.event_time = t.time_ms;
      corpus.push_back(t.text);
      batch.push_back(std::move(in));
    }
    if (auto ids = (*engine)->AddBatch("bench", batch); !ids.ok()) {
      std::fprintf(stderr, "load: %s\n", ids.status().ToString().c_str());
      return 1;
    }
  }
  (void)(*engine)->WaitForIndexing();
  // Searches meet a settled space: derivation of the loaded turns done, its memories indexed.
  const auto settle0 = std::chrono::steady_clock::now();
  for (;;) {
    auto stats = (*engine)->GetJobStats("bench");
    if (!stats.ok()) {
      std::fprintf(stderr, "job stats: %s\n", stats.status().ToString().c_str());
      return 1;
    }
    if (stats->pending - stats->summaries_pending == 0) {
      std::fprintf(
          stderr, "settled: %" PRId64 " memories derived in %.1f s\n", stats->derived,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - settle0).count());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  (void)(*engine)->WaitForIndexing();

  auto clock = mnemo::SystemClock();
  auto keys = mnemo::server::KeyStore::Open(f.dir, clock);
  if (!keys.ok()) return 1;
  mnemo::server::Limits limits;
  limits.workers = f.workers;
  mnemo::server::AppConfig app_config;
  app_config.limits = limits;
  app_config.anonymous_allowed = true;
  app_config.access_log = false;
  mnemo::server::App app(**engine, **keys, app_config, clock);
  mnemo::server::HttpServer http(
      limits, [&app](const mnemo::server::HttpRequest& r) { return app.Handle(r); },
      [&app](const mnemo::server::AccessRecord& r) { app.Observe(r); });
  app.AttachServer(&http);
  if (!http.Listen("127.0.0.1", 0).ok() || !http.Start().ok()) return 1;
  const int port = http.port();

  QueryGenerator qgen(7, &corpus);
  mnemo::bench::Rng rng(11);
  std::vector<std::string> searches, search_bodies;
  for (int i = 0; i < 4096; ++i) {
    mnemo::util::Json body = {{"query", qgen.Next().text},
                              {"user", "user" + std::to_string(rng.Uniform(f.users))},
                              {"k", 10}};
    search_bodies.push_back(mnemo::util::DumpJson(body));
    searches.push_back(Request("POST", "/v1/spaces/bench/search", search_bodies.back()));
  }
  size_t qi = 0;
  auto next_search = [&] { return searches[qi++ % searches.size()]; };
  const std::string healthz = Request("GET", "/healthz", "");
  auto next_healthz = [&] { return healthz; };

  std::printf("| figure | measured | baseline (GET /healthz, same run) |\n|---|---|---|\n");
  {
    std::fprintf(stderr, "GET /healthz for %.0f s...\n", f.seconds);
    auto conns = Open(port, f.connections);
    RunResult base = Drive(conns, next_healthz, f.seconds, 0);
    CloseAll(conns);
    std::fprintf(stderr, "POST search for %.0f s...\n", f.seconds);
    conns = Open(port, f.connections);
    RunResult search = Drive(conns, next_search, f.seconds, 0);
    CloseAll(conns);
    char fig[160];
    std::snprintf(fig, sizeof fig,
                  "search k=10, %d keep-alive connections, %" PRId64 " memories / %d users",
                  f.connections, f.n, f.users);
    Row(fig, Describe(search), Describe(base));
  }
  if (f.wrk != "none") {
    std::vector<std::string> bodies;
    for (size_t i = 0; i < 1024 && i < search_bodies.size(); ++i)
      bodies.push_back(search_bodies[i]);
    std::fprintf(stderr, "wrk: GET /healthz, then POST search, %.0f s each...\n", f.seconds);
    const std::string base = RunWrk(f, port, "/healthz", {});
    const std::string search = RunWrk(f, port, "/v1/spaces/bench/search", bodies);
    char fig[160];
    std::snprintf(fig, sizeof fig, "search k=10 by wrk, %d connections (same space)",
                  f.connections);
    Row(fig, search, base);
  }
  if (f.hold > 0) {
    auto conns = Open(port, f.hold);
    RunResult first = Drive(conns, next_healthz, 0, 1);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const size_t held = http.stats().connections;
    RunResult second = Drive(conns, next_healthz, 0, 1);
    CloseAll(conns);
    char fig[160], measured[200];
    std::snprintf(fig, sizeof fig, "%d connections held (request, 3 s idle, request)", f.hold);
    std::snprintf(measured, sizeof measured,
                  "%zu open on the server after 3 s idle; second requests: %" PRId64 " ok, %" PRId64
                  " errors, p99 %.1f ms",
                  held, second.ok, second.errors, second.Percentile(0.99));
    Row(fig, measured, Describe(first));
  }
  http.Stop();
  return 0;
}
