#include "context_cmd.h"

#include "mnemo/engine.h"
#include "util/time_util.h"

namespace mnemo::cli {
namespace {

std::string ProfileText(const Profile& p) {
  if (p.entries.empty()) return "(no profile entries for " + p.user + ")";
  std::string out;
  for (const auto& e : p.entries) {
    out += e.key + (e.value.empty() ? "" : " = " + e.value) + "\t" + e.text;
    if (e.since) out += "\t(since " + util::FormatIso8601(*e.since).substr(0, 10) + ")";
    if (e.edited) out += "\t[edited]";
    out += "\n";
  }
  out.pop_back();
  return out;
}

}  // namespace

ContextCommands RegisterContext(CLI::App* app, ContextArgs* a) {
  ContextCommands c;
  c.profile = app->add_subcommand(
      "profile", "a user's core memory: the current value of each attribute (editable)");
  c.profile->add_option("--space", a->space, "space")->required();
  c.profile->add_option("--user", a->user, "user")->required();
  c.profile->add_option("--limit", a->limit, "entries shown, 1-100 (default 20)");
  c.profile->add_option("--edit", a->edits,
                        "KEY=VALUE: set an attribute (supersedes its current value); repeatable");
  c.profile->add_option("--unset", a->unsets, "KEY: remove an attribute; repeatable");
  c.profile->add_option("--reason", a->reason, "with --edit/--unset: recorded in history");

  c.context = app->add_subcommand(
      "context", "a prompt-ready block: the profile, then relevant memories by session");
  c.context->add_option("--space", a->space, "space")->required();
  c.context->add_option("--user", a->user, "user")->required();
  c.context->add_option("--budget", a->budget, "token budget, 50-100000 (default 1500)");
  c.context->add_option("--now", a->now,
                        "reference time (ISO 8601; default now): later events are left out");
  c.context->add_option("--k", a->k, "memories retrieved before the budget cuts (default 30)");
  c.context->add_option("--profile-entries", a->profile_entries,
                        "profile lines at most, 0-100 (default 20)");
  c.context->add_option("QUERY", a->query_words, "what the memories should be relevant to")
      ->required();
  return c;
}

int RunContextCommand(const std::string& data, const ContextCommands& cmds, const ContextArgs& a,
                      const Output& out) {
  // Parse everything before opening the store.
  ProfileEdit edit;
  edit.user = a.user;
  edit.reason = a.reason;
  for (const auto& kv : a.edits) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return out.Fail(Status::InvalidArgument("--edit expects KEY=VALUE, got \"" + kv + "\""));
    }
    edit.set.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  edit.unset = a.unsets;
  if (!a.reason.empty() && edit.set.empty() && edit.unset.empty()) {
    return out.Fail(Status::InvalidArgument("--reason needs --edit or --unset"));
  }
  ContextRequest req;
  req.user = a.user;
  for (const auto& w : a.query_words) req.query += (req.query.empty() ? "" : " ") + w;
  req.budget_tokens = a.budget;
  req.k = a.k;
  req.profile_entries = a.profile_entries;
  if (!a.now.empty()) {
    auto t = util::ParseIso8601(a.now);
    if (!t.ok()) return out.Fail(t.status().WithContext("--now"));
    req.now = *t;
  }

  auto options = EngineOptions(data);
  if (!options.ok()) return out.Fail(options.status());
  auto engine = Engine::Open(data, *options);
  if (!engine.ok()) return out.Fail(engine.status());
  Engine& e = **engine;
  if (cmds.profile->parsed()) {
    Result<Profile> p = edit.set.empty() && edit.unset.empty()
                            ? e.GetProfile(a.space, a.user, a.limit)
                            : e.EditProfile(a.space, edit);
    if (!p.ok()) return out.Fail(p.status());
    out.Emit(util::ProfileToJson(*p), ProfileText(*p));
    return kExitOk;
  }
  auto c = e.BuildContext(a.space, req);
  if (!c.ok()) return out.Fail(c.status());
  std::string human = c->text;
  if (!human.empty() && human.back() == '\n') human.pop_back();
  out.Emit(util::ContextResultToJson(*c), human);
  return kExitOk;
}

}  // namespace mnemo::cli
