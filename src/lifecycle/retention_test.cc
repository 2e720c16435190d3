#include "lifecycle/retention.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mnemo::lifecycle {
namespace {

constexpr TimeMs kDay = 24LL * 3600 * 1000;
constexpr TimeMs kT0 = 1700000000000;

TEST(RetentionTest, HalvesEveryStabilityPeriod) {
  LifecycleOptions o;  // half-life 30 days
  RecallState m;       // importance 0.5, strength 1: stability 30 days
  m.created_at = kT0;
  EXPECT_DOUBLE_EQ(Retention(m, kT0, o), 1.0);
  EXPECT_DOUBLE_EQ(Retention(m, kT0 - kDay, o), 1.0);  // now before creation
  EXPECT_NEAR(Retention(m, kT0 + 30 * kDay, o), 0.5, 1e-12);
  EXPECT_NEAR(Retention(m, kT0 + 60 * kDay, o), 0.25, 1e-12);
}

TEST(RetentionTest, ImportanceStrengthAndRecallSlowTheDecay) {
  LifecycleOptions o;
  RecallState base;
  base.created_at = kT0;
  const TimeMs later = kT0 + 45 * kDay;
  RecallState important = base;
  important.importance = 1.0;  // stability x1.5
  RecallState strong = base;
  strong.strength = 4;  // stability x4
  RecallState recalled = base;
  recalled.last_access = kT0 + 40 * kDay;  // the clock restarts at the recall
  const double r = Retention(base, later, o);
  EXPECT_NEAR(r, std::exp2(-1.5), 1e-12);
  EXPECT_GT(Retention(important, later, o), r);
  EXPECT_NEAR(Retention(important, later, o), 0.5, 1e-12);
  EXPECT_NEAR(Retention(strong, later, o), std::exp2(-45.0 / 120), 1e-12);
  EXPECT_NEAR(Retention(recalled, later, o), std::exp2(-5.0 / 30), 1e-12);
  RecallState unimportant = base;
  unimportant.importance = 0;  // stability x0.5
  EXPECT_NEAR(Retention(unimportant, later, o), std::exp2(-3.0), 1e-12);
}

TEST(RetentionTest, ReinforceIsBounded) {
  LifecycleOptions o;
  o.max_strength = 5;
  EXPECT_DOUBLE_EQ(Reinforce(1, 1, o), 2);
  EXPECT_DOUBLE_EQ(Reinforce(2, 2, o), 4);
  EXPECT_DOUBLE_EQ(Reinforce(4, 10, o), 5);
}

TEST(RetentionTest, HeatGrowsWithRecallsAndRecencyAndShrinksWithSize) {
  LifecycleOptions o;
  RecallState m;
  m.created_at = kT0;
  m.bytes = 0;
  EXPECT_NEAR(Heat(m, kT0, o), 1.0, 1e-12);  // no recall, fresh, empty
  m.access_count = 3;
  EXPECT_NEAR(Heat(m, kT0, o), 3.0, 1e-12);  // log2(4) + 1
  RecallState old = m;
  EXPECT_LT(Heat(old, kT0 + 90 * kDay, o), Heat(m, kT0, o));
  RecallState big = m;
  big.bytes = 64 * 1024;
  EXPECT_LT(Heat(big, kT0, o), Heat(m, kT0, o));
}

TEST(RetentionTest, FactorIsNeutralAtWeightZero) {
  EXPECT_DOUBLE_EQ(RetentionFactor(0.1, 0), 1.0);
  EXPECT_DOUBLE_EQ(RetentionFactor(0.5, 1), 0.5);
  EXPECT_DOUBLE_EQ(RetentionFactor(0.5, 0.2), 0.9);
}

}  // namespace
}  // namespace mnemo::lifecycle
