#include "index/large_alloc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

namespace mnemo::index {
namespace {

TEST(LargeAllocTest, LargeBlocksAreHugePageAlignedAndUsable) {
  LargeVector<uint64_t> v;
  for (uint64_t i = 0; i < 1'000'000; ++i) v.push_back(i);  // grows through small and large
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % (uintptr_t{2} << 20), 0u);
  EXPECT_EQ(std::accumulate(v.begin(), v.end(), uint64_t{0}), uint64_t{999'999} * 1'000'000 / 2);
  LargeVector<uint64_t> copy = v;
  v.clear();
  v.shrink_to_fit();
  EXPECT_EQ(copy[123'456], 123'456u);

  LargeString s;
  for (int i = 0; i < 300'000; ++i) s.append("0123456789");
  EXPECT_EQ(s.size(), 3'000'000u);
  EXPECT_EQ(s.substr(2'999'990), "0123456789");
  LargeVector<uint8_t> small(100, 7);  // below 2 MiB: operator new
  EXPECT_EQ(small[99], 7);
}

}  // namespace
}  // namespace mnemo::index
