// Standard base64 (RFC 4648, with padding), used for vectors in exports.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "mnemo/status.h"

namespace mnemo::util {

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace mnemo::util
