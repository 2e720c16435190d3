// IdMap: memory id -> 32-bit value (a document ordinal, a graph node), open addressing.
// One flat table while small, 256 tables by the hash's top byte past 65,536 keys, so that
// no single rehash copies every key (the writer waits for it). A lookup is one probe
// sequence in one array: the read paths that resolve thousands of ids per query (a
// filtered exact vector scan) pay about one cache miss each, not a node chase.
// Not thread-safe: callers hold their own lock (readers shared, writers exclusive).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "mnemo/memory.h"

namespace mnemo::index {

inline constexpr uint32_t kNoValue = std::numeric_limits<uint32_t>::max();

inline uint64_t HashId(MemoryId id) {
  uint64_t x = static_cast<uint64_t>(id);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

// Open addressing (linear probing) from any memory id to a value below kTombValue; the
// value marks free slots, so every id is a valid key.
class IdTable {
 public:
  uint32_t Find(MemoryId id) const {
    if (slots_.empty()) return kNoValue;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(id) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.val == kNoValue) return kNoValue;
      if (s.key == id && s.val != kTombValue) return s.val;
    }
  }
  void Prefetch(MemoryId id) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Hash(id) & (slots_.size() - 1)]);
  }
  void Put(MemoryId id, uint32_t val) {
    if ((used_ + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(64, (size_ + 1) * 4));
    const size_t mask = slots_.size() - 1;
    size_t tomb = SIZE_MAX;
    for (size_t i = Hash(id) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.val == kNoValue) {
        Slot& dst = tomb != SIZE_MAX ? slots_[tomb] : s;
        if (tomb == SIZE_MAX) ++used_;
        dst = Slot{id, val};
        ++size_;
        return;
      }
      if (s.val == kTombValue) {
        if (tomb == SIZE_MAX) tomb = i;
      } else if (s.key == id) {
        s.val = val;
        return;
      }
    }
  }
  void Erase(MemoryId id) {
    if (slots_.empty()) return;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(id) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.val == kNoValue) return;
      if (s.key == id && s.val != kTombValue) {
        s.val = kTombValue;
        --size_;
        return;
      }
    }
  }
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }
  size_t size() const { return size_; }
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.val < kTombValue) f(s.key, s.val);
    }
  }

 private:
  static constexpr uint32_t kTombValue = kNoValue - 1;
  struct Slot {
    MemoryId key = 0;
    uint32_t val = kNoValue;  // kNoValue: never used; kTombValue: erased
  };
  static size_t Hash(MemoryId id) { return static_cast<size_t>(HashId(id)); }
  void Rehash(size_t want) {
    size_t n = 16;
    while (n < want) n *= 2;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(n, Slot{});
    used_ = size_ = 0;
    for (const Slot& s : old) {
      if (s.val < kTombValue) Put(s.key, s.val);
    }
  }
  std::vector<Slot> slots_;
  size_t used_ = 0;  // live + tombstones
  size_t size_ = 0;
};

// IdTables by the top byte of the key's hash once the map is large: a table's rehash, which
// the writer waits for, then moves 1/256 of the keys, and the tables' rehashes spread
// over many writes (one table would copy all keys at once: ~250 ms at a million).
class IdMap {
 public:
  IdMap() : shards_(1) {}
  uint32_t Find(MemoryId id) const { return shards_[Shard(id)].Find(id); }
  // A hint: loads the slot where Find(id) will start probing.
  void Prefetch(MemoryId id) const { shards_[Shard(id)].Prefetch(id); }
  void Put(MemoryId id, uint32_t val) {
    shards_[Shard(id)].Put(id, val);
    if (shards_.size() == 1 && shards_[0].size() >= kSplitAt) Split();
  }
  void Erase(MemoryId id) { shards_[Shard(id)].Erase(id); }
  size_t size() const {
    size_t n = 0;
    for (const IdTable& t : shards_) n += t.size();
    return n;
  }
  size_t MemoryBytes() const {
    size_t n = 0;
    for (const IdTable& t : shards_) n += t.MemoryBytes();
    return n;
  }

 private:
  static constexpr size_t kShards = 256;
  static constexpr size_t kSplitAt = 1u << 16;
  size_t Shard(MemoryId id) const { return shards_.size() == 1 ? 0 : HashId(id) >> 56; }
  void Split() {
    std::vector<IdTable> shards(kShards);
    shards_[0].ForEach([&](MemoryId id, uint32_t val) { shards[HashId(id) >> 56].Put(id, val); });
    shards_ = std::move(shards);
  }
  std::vector<IdTable> shards_;
};

}  // namespace mnemo::index
