// `mnemo keys create|list|revoke|reset`: the API keys of a data directory (server/keys.h).
// Works beside a running server: it edits DATA/keys.json without opening the engine,
// and the server picks the change up within about a second.
#include <string>

#include "server/keys.h"
#include "server_cmd.h"
#include "util/fs.h"
#include "util/json_codec.h"
#include "util/time_util.h"

namespace mnemo::cli {
namespace {

using server::KeyInfo;
using server::KeyStore;
using util::Json;

Json GrantsJson(const server::Grants& grants) {
  Json j = Json::object();
  for (const auto& [space, role] : grants) j[space] = std::string(server::RoleName(role));
  return j;
}

Json TimeJson(const std::optional<TimeMs>& t) {
  return t ? Json(util::FormatIso8601(*t)) : Json(nullptr);
}

// The id of a key given either as its id or as the whole key string.
std::string KeyIdOf(const std::string& arg) {
  constexpr std::string_view kPrefix = "mnemo_";
  if (arg.size() > kPrefix.size() + 9 && arg.compare(0, kPrefix.size(), kPrefix) == 0 &&
      arg[kPrefix.size() + 8] == '_') {
    return arg.substr(kPrefix.size(), 8);
  }
  return arg;
}

int Create(KeyStore& store, const KeysArgs& args, const Output& out) {
  server::Grants grants;
  for (const auto& g : args.grants) {
    Status s = server::ParseGrant(g, &grants);
    if (!s.ok()) return out.Fail(s);
  }
  if (args.user) {  // one check for "" too, which would otherwise mean "every user"
    if (Status s = server::ValidateKeyUser(*args.user); !s.ok()) {
      return out.Fail(Status::InvalidArgument("--user: " + s.message()).WithField("--user"));
    }
  }
  LabelSet deny = 0;
  if (!args.deny_labels.empty()) {
    std::vector<std::string> names;
    for (size_t from = 0; from <= args.deny_labels.size();) {
      const size_t comma = std::min(args.deny_labels.find(',', from), args.deny_labels.size());
      names.push_back(args.deny_labels.substr(from, comma - from));
      from = comma + 1;
    }
    auto labels = ParseLabels(names);
    if (!labels.ok()) {
      return out.Fail(Status::InvalidArgument("--deny-labels: " + labels.status().message())
                          .WithField("--deny-labels"));
    }
    deny = *labels;
  }
  auto key = store.Create(args.name, grants, args.user.value_or(""), deny);
  if (!key.ok()) return out.Fail(key.status());
  const KeyInfo& info = key->info;
  std::string denied;
  for (const auto& l : LabelNames(info.deny_labels)) denied += (denied.empty() ? "" : ",") + l;
  out.Emit({{"id", info.id},
            {"name", info.name},
            {"key", key->secret},
            {"grants", GrantsJson(info.grants)},
            {"user", info.user.empty() ? Json(nullptr) : Json(info.user)},
            {"deny_labels", LabelNames(info.deny_labels)}},
           "created API key " + info.id + " (\"" + info.name + "\"), grants " +
               server::GrantsToString(info.grants) +
               (info.user.empty() ? "" : ", acting as user \"" + info.user + "\" only") +
               (denied.empty() ? "" : ", never shown memories labelled " + denied) + "\n\n  " +
               key->secret +
               "\n\nThis key is shown only once: store it now (mnemo keeps only its hash).\n"
               "Clients send it as: Authorization: Bearer <key>");
  return kExitOk;
}

int List(const KeyStore& store, const Output& out) {
  Json arr = Json::array();
  std::string human;
  for (const KeyInfo& k : store.List()) {
    arr.push_back({{"id", k.id},
                   {"name", k.name},
                   {"created_at", util::FormatIso8601(k.created_at)},
                   {"revoked_at", TimeJson(k.revoked_at)},
                   {"grants", GrantsJson(k.grants)},
                   {"user", k.user.empty() ? Json(nullptr) : Json(k.user)},
                   {"deny_labels", LabelNames(k.deny_labels)}});
    std::string denied;
    for (const auto& l : LabelNames(k.deny_labels)) denied += (denied.empty() ? "" : ",") + l;
    human += k.id + "  " + util::FormatIso8601(k.created_at) + "  " +
             (k.revoked_at ? "revoked " + util::FormatIso8601(*k.revoked_at) : "active") + "  " +
             server::GrantsToString(k.grants) + (k.user.empty() ? "" : "  user=" + k.user) +
             (denied.empty() ? "" : "  deny=" + denied) + "  " + k.name + "\n";
  }
  if (!human.empty()) human.pop_back();
  out.Emit({{"keys", arr}}, human.empty()
                                ? "(no API keys; create one with: mnemo keys create --name NAME "
                                  "--grant SPACE:ROLE)"
                                : human);
  return kExitOk;
}

int Revoke(KeyStore& store, const KeysArgs& args, const Output& out) {
  const std::string id = KeyIdOf(args.id);
  // Tell "already revoked" apart from "revoked now" for the human message.
  bool was_revoked = false;
  for (const KeyInfo& k : store.List()) was_revoked = was_revoked || (k.id == id && k.revoked_at);
  auto info = store.Revoke(id);
  if (!info.ok()) return out.Fail(info.status());
  const std::string when = util::FormatIso8601(info->revoked_at.value_or(0));
  std::string human = was_revoked ? "API key " + info->id + " (\"" + info->name +
                                        "\") was already revoked at " + when
                                  : "revoked API key " + info->id + " (\"" + info->name + "\")";
  if (!store.HasKeys()) human += "\n" + std::string(server::kNoActiveKeysNote);
  out.Emit({{"id", info->id},
            {"name", info->name},
            {"revoked", true},
            {"revoked_at", when},
            {"active_keys", store.HasKeys()}},
           human);
  return kExitOk;
}

int Reset(KeyStore& store, const Output& out) {
  auto forgotten = store.Reset();
  if (!forgotten.ok()) return out.Fail(forgotten.status());
  out.Emit({{"forgotten", *forgotten}},
           "forgot " + std::to_string(*forgotten) +
               " revoked API key(s): a server on loopback now answers calls without a key "
               "(mnemo keys create closes it again)");
  return kExitOk;
}

}  // namespace

KeysCommands RegisterKeys(CLI::App* app, KeysArgs* args) {
  KeysCommands k;
  k.keys = app->add_subcommand("keys", "create, list or revoke API keys of the HTTP/MCP server");
  k.keys->require_subcommand(1);
  k.create = k.keys->add_subcommand("create", "create a key (its secret is printed once)");
  k.create->add_option("--name", args->name, "a label for the key (who or what uses it)")
      ->required();
  k.create->add_option("--user", args->user,
                       "bind the key to one end user: every call acts as this user, and "
                       "other users' memories are out of its reach");
  k.create->add_option("--deny-labels", args->deny_labels,
                       "sensitivity labels the key never sees, comma-separated: health, "
                       "sexuality, religion, politics, ethnicity, finance, location, identity, "
                       "credentials");
  k.create
      ->add_option("--grant", args->grants,
                   "SPACE:ROLE, role read, write or admin; SPACE * means every space "
                   "(repeatable)")
      ->required()
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  k.list = k.keys->add_subcommand("list", "list keys (never their secrets)");
  k.revoke = k.keys->add_subcommand("revoke",
                                    "revoke a key (a running server stops "
                                    "accepting it within a second)");
  k.revoke->add_option("ID", args->id, "key id (as shown by keys list), or the key itself")
      ->required();
  k.reset = k.keys->add_subcommand(
      "reset", "forget every key once all are revoked: back to the keyless mode (loopback only)");
  return k;
}

int RunKeys(const std::string& data, const KeysCommands& cmds, const KeysArgs& args,
            const Output& out) {
  // The engine's marker: keys belong to an initialized data directory.
  if (!util::PathExists(data + "/MNEMO")) {
    return out.Fail(Status::FailedPrecondition("no mnemo data directory at " + data +
                                               " (create one with: mnemo --data " + data +
                                               " init)"));
  }
  auto store = KeyStore::Open(data, nullptr);
  if (!store.ok()) return out.Fail(store.status());
  if (cmds.create->parsed()) return Create(**store, args, out);
  if (cmds.list->parsed()) return List(**store, out);
  if (cmds.revoke->parsed()) return Revoke(**store, args, out);
  if (cmds.reset->parsed()) return Reset(**store, out);
  return kExitBadInput;
}

}  // namespace mnemo::cli
