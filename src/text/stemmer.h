// Internal to src/text: per-thread Snowball English stemming with a small cache.
#pragma once

#include <string>
#include <string_view>

namespace mnemo::text::internal {

// Writes the Snowball English stem of the lower-cased `word` into `out`. If the stemmer
// cannot be created (out of memory) the word is copied unchanged rather than failing.
void SnowballStem(std::string_view word, std::string* out);

}  // namespace mnemo::text::internal
