#include "backend.h"

#include <iostream>

#include "cli.h"
#include "mnemo/search_params.h"
#include "progress.h"
#include "server/auth.h"
#include "server/limits.h"
#include "server/ops.h"

namespace mnemo::cli {
namespace {

using util::Json;

// An api error as the Status the CLI reports: its code by name, its field kept.
Status FromApi(std::string_view code, int http_status, const std::string& message,
               const std::string& field) {
  StatusCode c = http_status == 404   ? StatusCode::kNotFound
                 : http_status == 413 ? StatusCode::kTooLarge
                 : http_status < 500  ? StatusCode::kInvalidArgument
                 : http_status == 503 ? StatusCode::kUnavailable
                                      : StatusCode::kInternal;
  for (int i = 1; i <= static_cast<int>(StatusCode::kInternal); ++i) {
    if (StatusCodeName(static_cast<StatusCode>(i)) == code) c = static_cast<StatusCode>(i);
  }
  return Status(c, message).WithField(field);
}

}  // namespace

// An operation's error in the CLI's words: the field it names becomes the flag that set
// it ("\"time\": invalid time ..." -> "--time: invalid time ...").
Status ForCli(const Status& s) {
  static constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
      {"time", "--time"},
      {"ttl", "--ttl"},
      {"expires_at", "--expires"},
      {"meta", "--meta"},
      {"importance", "--importance"},
      {"kind", "--kind"},
      {"kinds", "--kind"},
      {"user", "--user"},
      {"all_users", "--all-users"},
      {"agent", "--agent"},
      {"session", "--session"},
      {"since", "--since"},
      {"until", "--until"},
      {"as_of", "--as-of"},
      {"valid_at", "--valid-at"},
      {"k", "--k"},
      {"limit", "--limit"},
      {"cursor", "--cursor"},
      {"tags", "--tag"},
      {"now", "--now"},
      {"fusion", "--fusion"},
      {"reason", "--reason"},
      {"speaker", "--speaker"},
      {"role", "--role"},
      {"space", "--space"},
      {"budget", "--budget"},
      {"profile_entries", "--profile-entries"},
      {"set", "--edit"},
      {"state", "--state"},
      {"unset", "--unset"}};
  const std::string& f = s.field();
  if (f.empty()) return s;
  std::string flag;
  for (const auto& [field, name] : kFlags) {
    if (f == field) flag = name;
  }
  for (const SearchParam& p : SearchParams()) {
    if (f == p.name) flag = p.Flag();
  }
  if (f.starts_with("filters")) flag = "--filters";  // the message names the path
  if (f.starts_with("meta.")) flag = "--meta-eq";
  if (flag.empty()) return s;
  std::string msg = s.message();
  const std::string quoted = "\"" + f + "\": ";
  if (flag != "--filters" && msg.starts_with(quoted)) msg.erase(0, quoted.size());
  return Status(s.code(), flag + ": " + msg).WithField(f);
}

Backend::~Backend() = default;

Result<std::unique_ptr<Backend>> Backend::Open(const std::string& data) {
  std::unique_ptr<Backend> b(new Backend());
  auto o = EngineOptions(data);
  if (!o.ok()) return o.status();
  o->max_batch = server::LocalLimits().max_batch;  // a whole file is one transaction
  b->rules_only_ = o->chat_model == nullptr;
  auto engine = Engine::Open(data, *o);
  if (engine.ok()) {
    b->engine_ = std::move(engine).value();
    return b;
  }
  // Held by another process: a running server, when one answers on the socket.
  if (engine.status().code() != StatusCode::kFailedPrecondition) return engine.status();
  auto client = std::make_unique<server::LocalHttpClient>(server::LocalSocketPath(data));
  if (!client->Connect().ok()) return engine.status();
  b->client_ = std::move(client);
  return b;
}

Result<Json> Backend::Call(std::string_view op, const Json& args) {
  if (engine_) {
    static const server::Limits limits = server::LocalLimits();
    server::Principal owner;
    owner.unrestricted = true;  // the data directory's owner
    auto r = server::ops::Call(server::ops::Context{*engine_, owner, limits, "cli"}, op, args);
    if (!r.ok()) {
      const server::ApiError& e = r.error();
      return FromApi(e.code, e.http_status, e.message, e.field);
    }
    return std::move(r).value();
  }
  auto reply = client_->Request("POST", "/v1/ops/" + std::string(op),
                                {{"Content-Type", "application/json"}}, util::DumpJson(args));
  if (!reply.ok()) return reply.status();
  auto body = util::ParseJson(reply->body);
  if (!body.ok()) {
    return Status::Internal("the server answered " + std::to_string(reply->status) +
                            " with a body that is not JSON: " + body.status().message());
  }
  if (reply->status == 200) return std::move(body).value();
  const Json err = body->is_object() ? body->value("error", Json::object()) : Json::object();
  return FromApi(err.value("code", ""), reply->status,
                 err.value("message", "the server answered " + std::to_string(reply->status)),
                 err.value("field", ""));
}

void Backend::DeriveNow(const std::string& space) {
  if (!engine_ || !rules_only_) return;
  ProgressLine progress("deriving", "jobs");
  if (Status s = engine_->RunJobs(space, /*summaries_now=*/false, progress.Callback()); !s.ok()) {
    std::cerr << "mnemo: warning: derivation postponed: " << s.message() << "\n";
    return;
  }
  progress.Done();
}

}  // namespace mnemo::cli
