// Shared fixtures for engine tests: a temp data directory, a fake clock, a log capture.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mnemo/engine.h"

namespace mnemo::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimeMs start) : now_(start) {}
  TimeMs NowMillis() const override { return now_.load(); }
  void Advance(TimeMs ms) { now_ += ms; }

 private:
  std::atomic<TimeMs> now_;
};

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() /
             ("mnemo-test-" + std::to_string(rd()) + std::to_string(rd())))
                .string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Reads every file below `dir` and reports whether `needle` occurs in any of them.
inline bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  Options MakeOptions() {
    Options o;
    o.create_if_missing = true;
    o.clock = clock_;
    o.background_jobs = false;  // tests run pipeline jobs with RunJobs, deterministically
    o.logger = [this](LogLevel level, std::string_view msg) {
      std::lock_guard<std::mutex> l(log_mu_);
      if (level >= LogLevel::kWarning) warnings_.emplace_back(msg);
    };
    return o;
  }

  void Reopen() {
    engine_.reset();
    auto e = Engine::Open(dir_.path(), MakeOptions());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  MemoryInput Input(std::string text, std::string user = "u1") {
    MemoryInput in;
    in.text = std::move(text);
    in.user_id = std::move(user);
    return in;
  }

  MemoryId MustAdd(const std::string& space, const MemoryInput& in) {
    auto id = engine_->Add(space, in);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  std::vector<MemoryId> SearchIds(const std::string& space, const SearchRequest& req) {
    auto hits = engine_->Search(space, req);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<MemoryId> ids;
    if (hits.ok()) {
      for (const auto& h : *hits) ids.push_back(h.memory.id);
    }
    return ids;
  }

  int64_t ActiveCount(const std::string& space) {
    auto s = engine_->Stats(space);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? s->memories_active : -1;
  }

  std::vector<std::string> Warnings() {
    std::lock_guard<std::mutex> l(log_mu_);
    return warnings_;
  }

  TempDir dir_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(1700000000000);
  std::unique_ptr<Engine> engine_;
  std::mutex log_mu_;
  std::vector<std::string> warnings_;
};

}  // namespace mnemo::testing
