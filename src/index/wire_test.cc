// The snapshot wire format's reader: round trips, and empty arrays (whose vector has no
// storage: the copy must not be handed a null pointer, which UBSan reports).
#include "index/wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mnemo::index::wire {
namespace {

TEST(WireTest, ArraysRoundTripIncludingEmptyOnes) {
  std::string out;
  PutArray(&out, std::vector<uint32_t>{});
  PutArray(&out, std::vector<uint32_t>{1, 2, 3});
  PutBytes(&out, "");
  Reader in(out, 0);
  std::vector<uint32_t> empty, three;
  ASSERT_TRUE(in.Array(&empty));
  EXPECT_TRUE(empty.empty());
  ASSERT_TRUE(in.Array(&three));
  EXPECT_EQ(three, (std::vector<uint32_t>{1, 2, 3}));
  std::string bytes = "x";
  ASSERT_TRUE(in.Bytes(&bytes));
  EXPECT_EQ(bytes, "");
  EXPECT_EQ(in.remaining(), 0u);
  // A length past the end is refused, not read.
  std::string bad;
  PutU32(&bad, 1000);
  Reader short_in(bad, 0);
  EXPECT_FALSE(short_in.Array(&three));
}

}  // namespace
}  // namespace mnemo::index::wire
