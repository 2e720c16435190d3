// Progress of a long command on a terminal: one line on stderr, redrawn at most ten
// times a second ("deriving  1,200/5,000 jobs  24%  400/s  ETA 9s") and replaced by a
// summary at the end ("deriving  5,000 jobs in 12.3 s, 406/s"). Nothing at all when
// stderr is not a terminal, so scripts and pipes see only the command's output.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "mnemo/engine.h"

namespace mnemo::cli {

class ProgressLine {
 public:
  // `label` names the phase ("deriving"), `unit` what is counted ("jobs").
  ProgressLine(std::string label, std::string unit);
  ~ProgressLine();  // Abandon() unless Done() was called
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void Update(int64_t done, int64_t total);
  // Replaces the line with a summary (if anything was drawn).
  void Done();
  // Erases the line (before an error message).
  void Abandon();
  // A callback for the engine's long calls.
  Progress Callback();
  bool enabled() const { return enabled_; }

 private:
  void Draw(bool final);

  std::string label_, unit_;
  bool enabled_;
  bool done_ = false;
  bool drawn_ = false;
  int64_t count_ = 0, total_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "12,345"
std::string Thousands(int64_t n);

}  // namespace mnemo::cli
