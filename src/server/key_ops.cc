// The operations on API keys (ops.h: ListKeys, CreateKey, RevokeKey): what `mnemo keys`
// does, for the HTTP API and the web UI. They need the admin role on every space ("*"),
// which the unrestricted loopback principal and the data directory's owner hold, and
// never a key bound to one end user.
#include "server/keys.h"
#include "server/ops.h"
#include "util/time_util.h"

namespace mnemo::server::ops {
namespace {

std::optional<ApiError> Check(const Context& c, const Json& args,
                              std::initializer_list<std::string_view> known) {
  if (!args.is_object()) return Invalid("expected a JSON object of arguments", "");
  if (Status s = util::CheckKnownFields(args, known); !s.ok()) return FromStatus(s, s.field());
  // A key bound to one end user never manages keys: it could mint one without the binding.
  if (!c.principal.Can("*", Role::kAdmin) || !c.principal.user.empty()) {
    return ApiError{403, "forbidden",
                    "managing API keys needs the admin role on every space (\"*\")", ""};
  }
  if (c.keys == nullptr) {
    return FromStatus(Status::FailedPrecondition(
        "API keys belong to a server's data directory: use mnemo serve's /v1/keys or "
        "'mnemo keys'"));
  }
  return std::nullopt;
}

Json KeyToJson(const KeyInfo& k) {
  Json grants = Json::object();
  for (const auto& [space, role] : k.grants) grants[space] = std::string(RoleName(role));
  return Json{{"id", k.id},
              {"name", k.name},
              {"created_at", util::FormatIso8601(k.created_at)},
              {"revoked_at", k.revoked_at ? Json(util::FormatIso8601(*k.revoked_at)) : Json()},
              {"grants", std::move(grants)},
              {"user", k.user.empty() ? Json() : Json(k.user)},
              {"deny_labels", LabelNames(k.deny_labels)}};
}

}  // namespace

ApiResult<Json> ListKeys(const Context& c, const Json& args) {
  if (auto e = Check(c, args, {})) return *e;
  Json keys = Json::array();
  for (const KeyInfo& k : c.keys->List()) keys.push_back(KeyToJson(k));
  return Json{{"keys", std::move(keys)}};
}

ApiResult<Json> CreateKey(const Context& c, const Json& args) {
  if (auto e = Check(c, args, {"name", "grants", "user", "deny_labels"})) return *e;
  auto name = util::GetString(args, "name", true);
  if (!name.ok()) return FromStatus(name.status(), "name");
  auto user = util::GetString(args, "user", false);
  if (!user.ok()) return FromStatus(user.status(), "user");
  if (args.contains("user") && !args["user"].is_null()) {
    if (Status s = ValidateKeyUser(*user); !s.ok()) return FromStatus(s, "user");
  }
  if (!args.contains("grants") || !args["grants"].is_object() || args["grants"].empty()) {
    return Invalid(
        "\"grants\" must be an object of space name (or \"*\") to role, e.g. "
        "{\"notes\": \"write\"}",
        "grants");
  }
  const Json& requested = args["grants"];
  Grants grants;
  for (const auto& [space, role] : requested.items()) {
    Role r = Role::kNone;
    if (!role.is_string() || !ParseRole(role.get_ref<const std::string&>(), &r) ||
        r == Role::kNone) {
      return Invalid("grants." + space + " must be \"read\", \"write\" or \"admin\"", "grants");
    }
    grants[space] = r;
  }
  if (Status s = ValidateGrants(grants); !s.ok()) return FromStatus(s, "grants");
  LabelSet deny = 0;
  if (args.contains("deny_labels") && !args["deny_labels"].is_null()) {
    auto labels = util::GetLabels(args, "deny_labels");
    if (!labels.ok()) return FromStatus(labels.status(), "deny_labels");
    deny = *labels;
  }
  auto created = c.keys->Create(*name, grants, *user, deny);
  if (!created.ok()) {
    return FromStatus(created.status(), created.status().field().empty()
                                            ? std::string("name")
                                            : created.status().field());
  }
  Json out = KeyToJson(created->info);
  out["key"] = created->secret;  // shown this once; only its hash is stored
  return out;
}

ApiResult<Json> RevokeKey(const Context& c, const Json& args) {
  if (auto e = Check(c, args, {"id"})) return *e;
  auto id = util::GetString(args, "id", true);
  if (!id.ok()) return FromStatus(id.status(), "id");
  auto revoked = c.keys->Revoke(*id);
  if (!revoked.ok()) return FromStatus(revoked.status(), "id");
  Json out = KeyToJson(*revoked);
  out["active_keys"] = c.keys->HasKeys();
  if (!c.keys->HasKeys()) out["note"] = std::string(kNoActiveKeysNote);
  return out;
}

}  // namespace mnemo::server::ops
