// IdMap against std::unordered_map: every key is valid (0 and negatives too), erased keys
// leave no trace, and the split into 256 tables past 65,536 keys loses nothing.
#include "index/id_map.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace mnemo::index {
namespace {

TEST(IdMapTest, AnyIdIsAKeyAndAnEraseLeavesNoTrace) {
  IdMap m;
  EXPECT_EQ(m.Find(0), kNoValue);
  for (MemoryId id : {MemoryId{0}, MemoryId{-1}, MemoryId{1}, INT64_MIN, INT64_MAX}) {
    m.Put(id, 7);
    EXPECT_EQ(m.Find(id), 7u) << id;
  }
  EXPECT_EQ(m.size(), 5u);
  m.Erase(0);
  m.Erase(-1);
  EXPECT_EQ(m.Find(0), kNoValue);
  EXPECT_EQ(m.Find(-1), kNoValue);
  EXPECT_EQ(m.Find(1), 7u);
  m.Put(0, 3);  // back in, in a tombstone's place
  EXPECT_EQ(m.Find(0), 3u);
  EXPECT_EQ(m.size(), 4u);
}

TEST(IdMapTest, MatchesAnUnorderedMapThroughPutsErasesAndTheSplit) {
  IdMap m;
  std::unordered_map<MemoryId, uint32_t> want;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<MemoryId> key(0, 150000);  // dense enough to revisit keys
  for (int i = 0; i < 400000; ++i) {
    const MemoryId id = key(rng) * 4096;  // engine ids step in large strides
    if (rng() % 4 == 0) {
      m.Erase(id);
      want.erase(id);
    } else {
      const auto v = static_cast<uint32_t>(rng() % 1000000);
      m.Put(id, v);
      want[id] = v;
    }
  }
  ASSERT_GT(want.size(), 65536u);  // the map has split
  EXPECT_EQ(m.size(), want.size());
  for (MemoryId k = 0; k <= 150000; ++k) {
    const MemoryId id = k * 4096;
    auto it = want.find(id);
    ASSERT_EQ(m.Find(id), it == want.end() ? kNoValue : it->second) << id;
  }
}

}  // namespace
}  // namespace mnemo::index
