#include "server/auth.h"

namespace mnemo::server {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kRead:
      return "read";
    case Role::kWrite:
      return "write";
    case Role::kAdmin:
      return "admin";
    case Role::kNone:
      break;
  }
  return "none";
}

bool ParseRole(std::string_view name, Role* out) {
  if (name == "read")
    *out = Role::kRead;
  else if (name == "write")
    *out = Role::kWrite;
  else if (name == "admin")
    *out = Role::kAdmin;
  else
    return false;
  return true;
}

Role Principal::RoleFor(std::string_view space) const {
  if (unrestricted) return Role::kAdmin;
  Role best = Role::kNone;
  if (auto it = spaces.find(space); it != spaces.end()) best = it->second;
  if (auto it = spaces.find(std::string_view("*")); it != spaces.end() && it->second > best) {
    best = it->second;
  }
  return best;
}

}  // namespace mnemo::server
