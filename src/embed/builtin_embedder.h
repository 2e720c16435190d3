// The builtin embedder: no model file, no network, deterministic. It hashes stemmed
// terms, term bigrams and character n-grams into a signed feature vector (see README.md);
// the same text gives the same vector in every run and on every machine (the hashing is
// exact everywhere; only std::log's last bit may differ between C libraries).
//
// Thread safety: the returned embedder is immutable and safe for concurrent use.
#pragma once

#include <memory>

#include "mnemo/embedder.h"

namespace mnemo::embed {

// Default dimension of the builtin embedder.
inline constexpr int kBuiltinDimension = 256;
// Fewer dimensions than this make hash collisions swamp the signal; more than the maximum
// only waste memory. NewBuiltinEmbedder clamps `dimension` into this range (the id and
// dimension() report the value used).
inline constexpr int kMinBuiltinDimension = 16;
inline constexpr int kMaxBuiltinDimension = 65536;

// Never null.
std::shared_ptr<const Embedder> NewBuiltinEmbedder(int dimension = kBuiltinDimension);

}  // namespace mnemo::embed
