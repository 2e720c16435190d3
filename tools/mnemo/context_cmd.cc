#include "context_cmd.h"

#include "backend.h"
#include "util/json_codec.h"

namespace mnemo::cli {
namespace {

// A profile of the api (util::ProfileToJson), for people.
std::string ProfileText(const util::Json& p) {
  const util::Json& entries = p["entries"];
  if (entries.empty()) return "(no profile entries for " + p.value("user", "") + ")";
  std::string out;
  for (const auto& e : entries) {
    const std::string value = e.value("value", "");
    out += e.value("key", "") + (value.empty() ? "" : " = " + value) + "\t" + e.value("text", "");
    if (e["since"].is_string()) {
      out += "\t(since " + e["since"].get<std::string>().substr(0, 10) + ")";
    }
    if (e.value("edited", false)) out += "\t[edited]";
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
  c.context
      ->add_option("--exclude-label", a->exclude_labels,
                   "nothing from memories with this sensitivity label (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c.context->add_option("--profile-entries", a->profile_entries,
                        "profile lines at most, 0-100 (default 20)");
  c.context->add_option("QUERY", a->query_words, "what the memories should be relevant to")
      ->required();
  return c;
}

int RunContextCommand(const std::string& data, const ContextCommands& cmds, const ContextArgs& a,
                      const Output& out) {
  // The operations' arguments (server/ops.h: get_profile, edit_profile, build_context),
  // which check every value; here only the flags' own syntax.
  util::Json args = {{"space", a.space}, {"user", a.user}};
  std::string op;
  if (cmds.profile->parsed()) {
    util::Json set = util::Json::object();
    for (const auto& kv : a.edits) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return out.Fail(Status::InvalidArgument("--edit expects KEY=VALUE, got \"" + kv + "\""));
      }
      set[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    const bool edits = !set.empty() || !a.unsets.empty();
    if (!a.reason.empty() && !edits) {
      return out.Fail(Status::InvalidArgument("--reason needs --edit or --unset"));
    }
    if (edits) {
      op = "edit_profile";
      if (!set.empty()) args["set"] = std::move(set);
      if (!a.unsets.empty()) args["unset"] = a.unsets;
      if (!a.reason.empty()) args["reason"] = a.reason;
    } else {
      op = "get_profile";
      args["limit"] = a.limit;
    }
  } else {
    op = "build_context";
    std::string query;
    for (const auto& w : a.query_words) query += (query.empty() ? "" : " ") + w;
    args["query"] = query;
    args["budget"] = a.budget;
    args["k"] = a.k;
    args["profile_entries"] = a.profile_entries;
    if (!a.now.empty()) args["now"] = a.now;
    if (!a.exclude_labels.empty()) args["exclude_labels"] = a.exclude_labels;
  }
  auto b = Backend::Open(data);
  if (!b.ok()) return out.Fail(b.status());
  auto r = (*b)->Call(op, args);
  if (!r.ok()) return out.Fail(ForCli(r.status()));
  if (op != "build_context") {
    out.Emit(*r, ProfileText(*r));
    return kExitOk;
  }
  std::string human = r->value("text", "");
  if (!human.empty() && human.back() == '\n') human.pop_back();
  out.Emit(*r, human);
  return kExitOk;
}

}  // namespace mnemo::cli
