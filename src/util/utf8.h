// UTF-8 validation for every text that enters mnemo from outside.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace mnemo::util {

// Returns the byte offset of the first invalid sequence (overlong forms, surrogates,
// code points above U+10FFFF, truncated sequences), or nullopt if `s` is valid UTF-8.
std::optional<size_t> FindInvalidUtf8(std::string_view s);

inline bool IsValidUtf8(std::string_view s) { return !FindInvalidUtf8(s).has_value(); }

}  // namespace mnemo::util
