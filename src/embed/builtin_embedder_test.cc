#include "embed/builtin_embedder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mnemo::embed {
namespace {

// Weighted sum of the 16-dimensional vector of "running dogs"; see PinnedValuesDoNotDrift.
constexpr double kPinnedChecksum = -4.8752665445208549;

std::vector<float> EmbedOne(const Embedder& embedder, std::string_view text) {
  std::vector<std::vector<float>> out;
  const Status s = embedder.Embed({text}, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out.empty() ? std::vector<float>() : out[0];
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) sum += double{a[i]} * double{b[i]};
  return sum;
}

double Cosine(const Embedder& e, std::string_view a, std::string_view b) {
  return Dot(EmbedOne(e, a), EmbedOne(e, b));  // vectors are unit length
}

TEST(BuiltinEmbedderTest, IdAndDimension) {
  EXPECT_EQ(NewBuiltinEmbedder()->id(), "builtin-v1-256");
  EXPECT_EQ(NewBuiltinEmbedder()->dimension(), kBuiltinDimension);
  const auto e = NewBuiltinEmbedder(384);
  EXPECT_EQ(e->id(), "builtin-v1-384");
  EXPECT_EQ(e->dimension(), 384);
  EXPECT_EQ(EmbedOne(*e, "hello world").size(), 384U);
}

TEST(BuiltinEmbedderTest, ClampsDimensionIntoRange) {
  EXPECT_EQ(NewBuiltinEmbedder(3)->dimension(), kMinBuiltinDimension);
  EXPECT_EQ(NewBuiltinEmbedder(-5)->id(), "builtin-v1-16");
  EXPECT_EQ(NewBuiltinEmbedder(1 << 30)->dimension(), kMaxBuiltinDimension);
}

TEST(BuiltinEmbedderTest, DeterministicAcrossInstances) {
  const auto a = NewBuiltinEmbedder();
  const auto b = NewBuiltinEmbedder();
  const std::string text = "Caroline went to the LGBTQ support group yesterday.";
  const std::vector<float> va = EmbedOne(*a, text);
  EXPECT_EQ(va, EmbedOne(*a, text));
  EXPECT_EQ(va, EmbedOne(*b, text));
}

TEST(BuiltinEmbedderTest, PinnedValuesDoNotDrift) {
  // Stored vectors are only comparable while the features and hash stay put; if this test
  // fails on purpose, bump the "v1" in the id.
  const std::vector<float> v = EmbedOne(*NewBuiltinEmbedder(16), "running dogs");
  ASSERT_EQ(v.size(), 16U);
  double checksum = 0.0;
  for (size_t i = 0; i < v.size(); ++i) checksum += static_cast<double>(i + 1) * v[i];
  EXPECT_NEAR(checksum, kPinnedChecksum, 1e-5);
}

TEST(BuiltinEmbedderTest, UnitNorm) {
  const auto e = NewBuiltinEmbedder();
  for (std::string_view text :
       {"cat", "hello", "I love hiking in the mountains", "École 東京 2023", "x x x x x x"}) {
    const std::vector<float> v = EmbedOne(*e, text);
    EXPECT_NEAR(std::sqrt(Dot(v, v)), 1.0, 1e-5) << text;
  }
}

TEST(BuiltinEmbedderTest, TextWithoutFeaturesGivesZeroVector) {
  const auto e = NewBuiltinEmbedder(32);
  for (std::string_view text : {"", "   ,.;!", "\xFF\xFE"}) {
    EXPECT_EQ(EmbedOne(*e, text), std::vector<float>(32, 0.0F));
  }
  // Stop words are skipped entirely, character n-grams included.
  EXPECT_EQ(EmbedOne(*e, "the and of"), std::vector<float>(32, 0.0F));
}

TEST(BuiltinEmbedderTest, RelatedTextsAreCloserThanUnrelated) {
  const auto e = NewBuiltinEmbedder();
  const std::string_view anchor = "I love hiking in the mountains";
  const double related = Cosine(*e, anchor, "hiked up a mountain");
  const double unrelated = Cosine(*e, anchor, "the quarterly tax report is overdue");
  EXPECT_GT(related, 0.3);
  EXPECT_GT(related, unrelated + 0.2);
  // Character n-grams tolerate a typo the stemmer cannot fix.
  EXPECT_GT(Cosine(*e, "mountain", "mountian"), Cosine(*e, "mountain", "lake"));
}

TEST(BuiltinEmbedderTest, WordOrderMattersThroughBigrams) {
  const auto e = NewBuiltinEmbedder(1024);
  const double same = Cosine(*e, "dog bites man", "dog bites man");
  const double swapped = Cosine(*e, "dog bites man", "man bites dog");
  EXPECT_NEAR(same, 1.0, 1e-6);
  EXPECT_LT(swapped, 0.99);
  EXPECT_GT(swapped, 0.5);  // same words
}

TEST(BuiltinEmbedderTest, BatchMatchesSingleCalls) {
  const auto e = NewBuiltinEmbedder();
  const std::vector<std::string_view> texts = {"first memory", "", "second memory here"};
  std::vector<std::vector<float>> out(7);  // resized by Embed
  ASSERT_TRUE(e->Embed(texts, &out).ok());
  ASSERT_EQ(out.size(), 3U);
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(out[i], EmbedOne(*e, texts[i]));
  EXPECT_EQ(e->Embed(texts, nullptr).code(), StatusCode::kInvalidArgument);
}

TEST(BuiltinEmbedderTest, ConcurrentEmbeddingIsIdentical) {
  const auto e = NewBuiltinEmbedder();
  const std::vector<std::string_view> texts = {
      "Melanie painted a sunset over the lake last weekend.",
      "Caroline is researching adoption agencies.", "東京タワー and École 2023"};
  std::vector<std::vector<float>> expected;
  ASSERT_TRUE(e->Embed(texts, &expected).ok());
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::vector<float>> out;
      for (int i = 0; i < 200; ++i) {
        if (!e->Embed(texts, &out).ok() || out != expected) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_THAT(mismatches, ::testing::ElementsAre(0, 0, 0, 0));
}

}  // namespace
}  // namespace mnemo::embed
