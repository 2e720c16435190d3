// Unit tests of the retry policy (no network).
#include "llm/retry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace mnemo::llm {
namespace {

using std::chrono::milliseconds;

HttpAnswer Answer(int status) {
  HttpAnswer a;
  a.transport = Transport::kOk;
  a.status = status;
  return a;
}

HttpAnswer Failed(Transport t) {
  HttpAnswer a;
  a.transport = t;
  return a;
}

TEST(RetryTest, RetryableAnswers) {
  EXPECT_TRUE(IsRetryable(Answer(429)));
  EXPECT_TRUE(IsRetryable(Answer(500)));
  EXPECT_TRUE(IsRetryable(Answer(503)));
  EXPECT_TRUE(IsRetryable(Answer(408)));
  EXPECT_FALSE(IsRetryable(Answer(200)));
  EXPECT_FALSE(IsRetryable(Answer(400)));
  EXPECT_FALSE(IsRetryable(Answer(401)));
  EXPECT_FALSE(IsRetryable(Answer(404)));
  EXPECT_FALSE(IsRetryable(Answer(422)));
  EXPECT_TRUE(IsRetryable(Failed(Transport::kRefused)));
  EXPECT_TRUE(IsRetryable(Failed(Transport::kTimeout)));
  EXPECT_TRUE(IsRetryable(Failed(Transport::kDns)));
  EXPECT_TRUE(IsRetryable(Failed(Transport::kOther)));
  EXPECT_FALSE(IsRetryable(Failed(Transport::kTooLarge)));
}

TEST(RetryTest, RetryAfterDeltaSecondsAndHttpDate) {
  // 2015-10-21T07:28:00Z = 1445412480 s.
  const int64_t now = int64_t{1445412480} * 1000;
  EXPECT_EQ(ParseRetryAfter("3", now), milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", now), milliseconds(5000));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), milliseconds(0));  // past
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-3", now), std::nullopt);
}

TEST(RetryTest, RetryDelayPrefersRetryAfterCappedByMax) {
  RetryPolicy policy{4, 10, 2000};
  HttpAnswer a = Answer(429);
  a.headers.emplace_back("retry-after", "1");
  EXPECT_EQ(RetryDelay(policy, 0, a), milliseconds(1000));
  a.headers[0].second = "60";
  EXPECT_EQ(RetryDelay(policy, 0, a), milliseconds(2000));  // capped
  a.headers.insert(a.headers.begin(), {"retry-after-ms", "250"});
  EXPECT_EQ(RetryDelay(policy, 0, a), milliseconds(250));  // OpenAI's precise variant wins
}

TEST(RetryTest, BackoffIsFullJitterUnderTheExponentialCeiling) {
  RetryPolicy policy{10, 100, 1000};
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto d0 = BackoffDelay(policy, 0).count();
    const auto d2 = BackoffDelay(policy, 2).count();
    const auto d9 = BackoffDelay(policy, 9).count();
    EXPECT_GE(d0, 0);
    EXPECT_LE(d0, 100);
    EXPECT_LE(d2, 400);
    EXPECT_LE(d9, 1000);  // capped by max
    seen.insert(d9);
  }
  EXPECT_GT(seen.size(), 20u);  // jittered, not a constant
  EXPECT_EQ(BackoffDelay(RetryPolicy{3, 0, 0}, 2), milliseconds(0));
}

TEST(RetryTest, ConcurrencyLimitBoundsHolders) {
  ConcurrencyLimit limit(3);
  std::atomic<int> holding{0}, most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        ConcurrencyLimit::Permit permit = limit.Acquire();
        const int now = ++holding;
        int prev = most.load();
        while (prev < now && !most.compare_exchange_weak(prev, now)) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        --holding;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2);
}

}  // namespace
}  // namespace mnemo::llm
