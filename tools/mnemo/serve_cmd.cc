// `mnemo serve`: the HTTP/JSON API and MCP endpoint over one Engine (src/server).
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <iostream>

#include "mnemo/engine.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/keys.h"
#include "server/local_socket.h"
#include "server_cmd.h"

namespace mnemo::cli {
namespace {

// Lets the server hold thousands of connections: the soft descriptor limit is often
// 1024 while the hard limit is far higher.
void RaiseDescriptorLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// One message, one write: stderr also carries the access log, written by the workers,
// and a message written in pieces could be spliced into one of its lines.
void Say(const std::string& message) { std::fputs(message.c_str(), stderr); }

}  // namespace

CLI::App* RegisterServe(CLI::App* app, ServeArgs* args) {
  auto* c = app->add_subcommand("serve", "serve the HTTP/JSON API (/v1) and MCP (/mcp)");
  c->add_option("--host", args->host, "address to listen on (default 127.0.0.1)");
  c->add_option("--port", args->port, "port (default 8420; 0 picks a free port)");
  c->add_option("--config", args->config, "server config file (JSON; see docs/api.md)");
  c->add_flag("--quiet", args->quiet, "no access log on stderr");
  return c;
}

int RunServe(const std::string& data, const ServeArgs& args, const Output& out) {
  // SIGINT/SIGTERM go to the thread that waits for them below: block them before any
  // thread exists (the engine's indexer, the server's loop and workers inherit the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  RaiseDescriptorLimit();

  server::ServerConfig config;
  if (!args.config.empty()) {
    auto loaded = server::LoadServerConfig(args.config);
    if (!loaded.ok()) return out.Fail(loaded.status());
    config = std::move(loaded).value();
  }
  if (!args.host.empty()) config.host = args.host;
  if (args.port >= 0) config.port = args.port;
  if (args.quiet) config.access_log = false;

  auto o = EngineOptions(data);
  if (!o.ok()) return out.Fail(o.status());
  o->create_if_missing = true;  // the README's first command serves a fresh directory
  o->background_jobs = true;
  auto engine = Engine::Open(data, *o);
  if (!engine.ok()) return out.Fail(engine.status());
  auto clock = SystemClock();
  auto keys = server::KeyStore::Open(data, clock);
  if (!keys.ok()) return out.Fail(keys.status());
  const bool loopback = server::IsLoopbackHost(config.host);
  const bool has_keys = (*keys)->HasKeys();
  if (!loopback && !has_keys) {
    return out.Fail(Status::FailedPrecondition(
        "refusing to listen on " + config.host +
        " without API keys: anyone who can reach it could read and erase every memory. "
        "Create a key first ('mnemo --data " +
        data + " keys create --name NAME --grant SPACE:ROLE') or listen on 127.0.0.1"));
  }

  server::AppConfig app_config;
  app_config.limits = config.limits;
  app_config.anonymous_allowed = loopback;
  app_config.loopback_listener = loopback;
  app_config.allowed_hosts = config.allowed_hosts;
  app_config.allowed_origins = config.allowed_origins;
  app_config.access_log = config.access_log;
  app_config.default_space = config.default_space;
  server::App app(**engine, **keys, app_config, clock);
  server::HttpServer http(
      config.limits, [&app](const server::HttpRequest& r) { return app.Handle(r); },
      [&app](const server::AccessRecord& r) { app.Observe(r); });
  app.AttachServer(&http);
  if (Status s = http.Listen(config.host, config.port); !s.ok()) return out.Fail(s);
  // The CLI and `mnemo mcp` reach this server there while it holds the directory.
  if (Status s =
          http.ListenLocal(server::LocalSocketPath(data), server::LocalLimits(config.limits));
      !s.ok()) {
    Say("mnemo: warning: the CLI and 'mnemo mcp' cannot use this data directory while the "
        "server runs: " +
        s.message() + "\n");
  }
  const std::string url =
      "http://" +
      (config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host) + ":" +
      std::to_string(http.port());
  if (!(*keys)->Configured()) {
    Say("mnemo: no API keys configured: serving " + url +
        " without authentication, on loopback only\n");
  }
  if (Status s = http.Start(); !s.ok()) return out.Fail(s);
  std::cout << "listening on " << url << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  Say(std::string("mnemo: ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
      ": finishing in-flight requests\n");
  app.SetDraining();
  http.Stop();
  engine->reset();  // snapshots the vector indexes and closes the spaces
  Say("mnemo: stopped\n");
  return kExitOk;
}

}  // namespace mnemo::cli
