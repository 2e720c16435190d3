// Who is calling, and what they may do: the principal an API key resolves to.
//
// Roles per space are ordered: read < write < admin.
//   read:  get, list, search, history, links, export, space stats
//   write: read + add, batch add, ingest, update, delete (soft)
//   admin: write + purge, drop space; admin on a space name also creates that space
// The space name "*" grants its role on every space (and listing/creating spaces).
// A key bound to one end user holds its roles for that user's memories only.
//
// Thread safety: plain values.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "mnemo/memory.h"

namespace mnemo::server {

enum class Role { kNone = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

std::string_view RoleName(Role r);  // "none", "read", "write", "admin"
bool ParseRole(std::string_view name, Role* out);

struct Principal {
  std::string key_id;         // id of the API key; "" when anonymous
  bool unrestricted = false;  // no keys configured (loopback only): every role everywhere
  std::map<std::string, Role, std::less<>> spaces;  // space name (or "*") -> role
  // The end user an end-user key is bound to; "" for a key that covers every user of its
  // spaces. A bound principal acts as this user only (server/ops.h, "End-user keys").
  std::string user;
  // Sensitivity labels (mnemo::Label) this principal may not see: memories with any of
  // them are as good as absent to it (server/ops.h, "Denied labels").
  LabelSet deny_labels = 0;

  // The strongest role this principal holds on `space` (its own entry or "*").
  Role RoleFor(std::string_view space) const;
  bool Can(std::string_view space, Role needed) const { return RoleFor(space) >= needed; }
};

}  // namespace mnemo::server
