#include "index/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace mnemo::index {
namespace {

std::vector<float> RandomVector(std::mt19937* rng, int dim, bool normalise) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(dim));
  double norm2 = 0;
  for (float& x : v) {
    x = normal(*rng);
    norm2 += double(x) * x;
  }
  if (normalise) {
    for (float& x : v) x = float(x / std::sqrt(norm2));
  }
  return v;
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

float ScaleOf(const std::string& blob) {
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) {
    bits |= uint32_t(static_cast<unsigned char>(blob[blob.size() - 4 + size_t(i)])) << (8 * i);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

TEST(QuantizeTest, LayoutIsCodesThenLittleEndianScale) {
  const std::string blob = Quantize({1.0f, -0.5f, 0.25f});
  ASSERT_EQ(blob.size(), QuantizedSize(3));
  EXPECT_EQ(int8_t(blob[0]), 127);
  EXPECT_EQ(int8_t(blob[1]), -64);  // -63.5 rounds away from zero
  EXPECT_EQ(int8_t(blob[2]), 32);   // 31.75
  EXPECT_FLOAT_EQ(ScaleOf(blob), 1.0f / 127.0f);
  // The scale's bytes are the IEEE-754 pattern of 1/127 = 0x3C010204, low byte first.
  EXPECT_EQ(static_cast<unsigned char>(blob[3]), 0x04);
  EXPECT_EQ(static_cast<unsigned char>(blob[6]), 0x3C);
}

TEST(QuantizeTest, RoundTripErrorIsAtMostHalfAStep) {
  std::mt19937 rng(7);
  for (int dim : {1, 5, 16, 17, 64, 255, 256, 1000}) {
    for (int trial = 0; trial < 20; ++trial) {
      const std::vector<float> v = RandomVector(&rng, dim, trial % 2 == 0);
      const std::string blob = Quantize(v);
      ASSERT_EQ(blob.size(), QuantizedSize(dim));
      float max_abs = 0;
      for (float x : v) max_abs = std::max(max_abs, std::fabs(x));
      const float step = max_abs / 127.0f;
      EXPECT_FLOAT_EQ(ScaleOf(blob), step);
      const std::vector<float> back = Dequantize(blob);
      ASSERT_EQ(back.size(), v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        EXPECT_LE(std::fabs(back[i] - v[i]), step * 0.5f * 1.001f) << "dim " << dim << " i " << i;
      }
    }
  }
}

TEST(QuantizeTest, ZeroVectorHasZeroScale) {
  const std::string blob = Quantize(std::vector<float>(10, 0.0f));
  EXPECT_EQ(ScaleOf(blob), 0.0f);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(blob[i], 0);
  EXPECT_EQ(Dequantize(blob), std::vector<float>(10, 0.0f));
  const std::string other = Quantize(std::vector<float>(10, 0.3f));
  EXPECT_EQ(QuantizedDot(blob, other), 0.0f);
  EXPECT_EQ(QuantizedDot(std::vector<float>(10, 0.3f), blob), 0.0f);
}

TEST(QuantizeTest, EmptyVector) {
  const std::string blob = Quantize({});
  EXPECT_EQ(blob.size(), 4u);
  EXPECT_TRUE(Dequantize(blob).empty());
  EXPECT_EQ(QuantizedDot(blob, blob), 0.0f);
}

TEST(QuantizeTest, NonFiniteComponentsBecomeZero) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> back = Dequantize(Quantize({0.5f, inf, nan, -0.25f}));
  ASSERT_EQ(back.size(), 4u);
  EXPECT_NEAR(back[0], 0.5f, 1e-6);
  EXPECT_EQ(back[1], 0.0f);
  EXPECT_EQ(back[2], 0.0f);
  EXPECT_NEAR(back[3], -0.25f, 0.5f / 254);
}

TEST(QuantizeTest, DotMatchesDequantizedArithmeticForEveryTailLength) {
  std::mt19937 rng(11);
  for (int dim = 1; dim <= 70; ++dim) {
    const std::vector<float> a = RandomVector(&rng, dim, true);
    const std::vector<float> b = RandomVector(&rng, dim, true);
    const std::string qa = Quantize(a);
    const std::string qb = Quantize(b);
    const double reference = Dot(Dequantize(qa), Dequantize(qb));
    EXPECT_NEAR(QuantizedDot(qa, qb), reference, 1e-5) << "dim " << dim;
    const double mixed = Dot(a, Dequantize(qb));
    EXPECT_NEAR(QuantizedDot(a, qb), mixed, 1e-5) << "dim " << dim;
  }
}

TEST(QuantizeTest, DotIsCloseToTheFloatDot) {
  std::mt19937 rng(3);
  double worst_int8 = 0;
  double worst_mixed = 0;
  for (int trial = 0; trial < 500; ++trial) {
    const std::vector<float> a = RandomVector(&rng, 256, true);
    const std::vector<float> b = RandomVector(&rng, 256, true);
    const double exact = Dot(a, b);
    worst_int8 = std::max(worst_int8, std::fabs(QuantizedDot(Quantize(a), Quantize(b)) - exact));
    worst_mixed = std::max(worst_mixed, std::fabs(QuantizedDot(a, Quantize(b)) - exact));
  }
  EXPECT_LT(worst_int8, 0.01);
  EXPECT_LT(worst_mixed, 0.005);
  // A unit vector against itself stays close to 1.
  const std::vector<float> v = RandomVector(&rng, 256, true);
  EXPECT_NEAR(QuantizedDot(Quantize(v), Quantize(v)), 1.0, 0.01);
  EXPECT_NEAR(QuantizedDot(v, Quantize(v)), 1.0, 0.005);
}

TEST(QuantizeTest, MismatchedOrMalformedBlobsGiveZero) {
  const std::string a = Quantize({0.1f, 0.2f, 0.3f});
  const std::string b = Quantize({0.1f, 0.2f});
  EXPECT_EQ(QuantizedDot(a, b), 0.0f);
  EXPECT_EQ(QuantizedDot(std::vector<float>{0.1f, 0.2f}, a), 0.0f);
  EXPECT_EQ(QuantizedDot(std::string_view("ab"), std::string_view("ab")), 0.0f);
  EXPECT_TRUE(Dequantize("xy").empty());
}

}  // namespace
}  // namespace mnemo::index
