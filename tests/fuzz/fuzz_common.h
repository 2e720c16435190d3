// Shared helpers of the libFuzzer targets (tests/fuzz/README.md): invariant checks that
// abort (libFuzzer saves the input as a crash), and a throwaway Engine in a temp dir.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "mnemo/engine.h"
#include "mnemo/options.h"

namespace mnemo::fuzz {

// Aborts with a message when an invariant does not hold. Always on (no NDEBUG).
#define FUZZ_CHECK(cond, what)                                                      \
  do {                                                                              \
    if (!(cond)) ::mnemo::fuzz::Fail(__FILE__, __LINE__, #cond, std::string(what)); \
  } while (0)

[[noreturn]] inline void Fail(const char* file, int line, const char* cond,
                              const std::string& what) {
  std::fprintf(stderr, "\n==FUZZ INVARIANT== %s:%d: %s\n  %s\n", file, line, cond, what.c_str());
  std::fflush(stderr);
  std::abort();
}

// MNEMO_FUZZ_VERBOSE=1 in the environment: targets print what they answer (to read a
// reproducer's run).
inline bool Verbose() {
  static const bool verbose = std::getenv("MNEMO_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

// Runs `body`; an escaping exception is a finding (the faces must answer, never throw).
template <typename F>
void NoThrow(const char* where, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    Fail(__FILE__, __LINE__, where, std::string("uncaught exception: ") + e.what());
  } catch (...) {
    Fail(__FILE__, __LINE__, where, "uncaught non-std exception");
  }
}

// A clock that never moves: runs are reproducible, and since memory ids are
// (ms << 12) + counter, the memories a target adds get the ids 1, 2, 3 ... that seeds
// and mutations name.
class FrozenClock : public Clock {
 public:
  TimeMs NowMillis() const override { return 0; }
};

// An Engine in a fresh temp directory, with one space, removed at exit. Opened once per
// fuzzing process (LLVMFuzzerInitialize): the targets fuzz request handling, not opening.
class TempEngine {
 public:
  explicit TempEngine(const std::string& space) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mnemo-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) Fail(__FILE__, __LINE__, "mkdtemp", tmpl);
    dir_ = tmpl;
    Options o;
    o.create_if_missing = true;
    o.durability = Durability::kNormal;  // no fsync per write: the fuzzer needs speed
    o.logger = [](LogLevel, std::string_view) {};
    o.clock = std::make_shared<FrozenClock>();
    // No background thread: the engine lives in static storage, and a pipeline job still
    // running when the fuzzer exits would read function-local statics (word lists) that
    // exit has already destroyed. The targets fuzz request handling, not the pipeline.
    o.background_jobs = false;
    auto e = Engine::Open(dir_ + "/data", o);
    if (!e.ok()) Fail(__FILE__, __LINE__, "Engine::Open", e.status().ToString());
    engine_ = std::move(e).value();
    Status s = engine_->CreateSpace(space);
    if (!s.ok()) Fail(__FILE__, __LINE__, "CreateSpace", s.ToString());
  }
  ~TempEngine() {
    engine_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Engine& engine() { return *engine_; }

 private:
  std::string dir_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace mnemo::fuzz
