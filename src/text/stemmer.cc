#include "text/stemmer.h"

#include <libstemmer.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

namespace mnemo::text::internal {
namespace {

struct StemmerDeleter {
  void operator()(sb_stemmer* stemmer) const { sb_stemmer_delete(stemmer); }
};

// Word frequencies are Zipfian, so a direct-mapped cache of recent stems answers most
// words without entering the stemmer, which is otherwise about half of ForEachTerm's time.
// Words longer than kCachedBytes (rare) always go to the stemmer.
constexpr size_t kCachedBytes = 22;
constexpr size_t kCacheSlots = 2048;  // a power of two; ~100 KB per thread

struct CacheSlot {
  uint8_t word_size = 0;  // 0: empty
  uint8_t stem_size = 0;
  std::array<char, kCachedBytes> word;
  std::array<char, kCachedBytes> stem;
};

// sb_stemmer keeps its working buffer inside the object, so each thread needs its own.
struct ThreadStemmer {
  std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer{sb_stemmer_new("english", "UTF_8")};
  std::array<CacheSlot, kCacheSlots> cache{};
};

// Created on first use and freed when the thread exits. On the heap: too big for TLS.
ThreadStemmer& ThisThread() {
  thread_local std::unique_ptr<ThreadStemmer> state = std::make_unique<ThreadStemmer>();
  return *state;
}

size_t SlotOf(std::string_view word) {
  uint32_t h = 2166136261U;  // 32-bit FNV-1a
  for (char c : word) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619U;
  }
  return (h ^ (h >> 16)) & (kCacheSlots - 1);
}

}  // namespace

void SnowballStem(std::string_view word, std::string* out) {
  ThreadStemmer& state = ThisThread();
  const bool cacheable = !word.empty() && word.size() <= kCachedBytes;
  CacheSlot* slot = cacheable ? &state.cache[SlotOf(word)] : nullptr;
  if (slot != nullptr && slot->word_size == word.size() &&
      std::memcmp(slot->word.data(), word.data(), word.size()) == 0) {
    out->assign(slot->stem.data(), slot->stem_size);
    return;
  }
  out->assign(word);
  if (state.stemmer == nullptr) return;
  const sb_symbol* stem =
      sb_stemmer_stem(state.stemmer.get(), reinterpret_cast<const sb_symbol*>(word.data()),
                      static_cast<int>(word.size()));
  if (stem == nullptr) return;
  const auto stem_size = static_cast<size_t>(sb_stemmer_length(state.stemmer.get()));
  out->assign(reinterpret_cast<const char*>(stem), stem_size);
  if (slot != nullptr && stem_size <= kCachedBytes) {
    slot->word_size = static_cast<uint8_t>(word.size());
    slot->stem_size = static_cast<uint8_t>(stem_size);
    std::memcpy(slot->word.data(), word.data(), word.size());
    std::memcpy(slot->stem.data(), out->data(), stem_size);
  }
}

}  // namespace mnemo::text::internal
