#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace mnemo::cli {

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

namespace {

std::string Seconds(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600,
                  static_cast<int>(s) % 3600 / 60);
  }
  return buf;
}

}  // namespace

ProgressLine::ProgressLine(std::string label, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      enabled_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}  // the first update draws at once

ProgressLine::~ProgressLine() { Abandon(); }

void ProgressLine::Abandon() {
  if (!done_ && drawn_) std::fprintf(stderr, "\r\033[K");
  done_ = true;
}

void ProgressLine::Update(int64_t done, int64_t total) {
  count_ = done;
  total_ = total;
  if (!enabled_ || (done <= 0 && total <= 0)) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Draw(false);
}

void ProgressLine::Done() {
  if (done_) return;
  done_ = true;
  if (drawn_) Draw(true);
}

Progress ProgressLine::Callback() {
  return [this](int64_t done, int64_t total) { Update(done, total); };
}

void ProgressLine::Draw(bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(count_) / elapsed : 0;
  std::string line = label_ + "  ";
  if (final) {
    line += Thousands(count_) + " " + unit_ + " in " + Seconds(elapsed);
    if (elapsed >= 0.1) line += ", " + Thousands(static_cast<int64_t>(rate)) + "/s";
  } else {
    line += Thousands(count_) + (total_ > 0 ? "/" + Thousands(total_) : "") + " " + unit_;
    if (total_ > 0) line += "  " + std::to_string(100 * count_ / total_) + "%";
    line += "  " + Thousands(static_cast<int64_t>(rate)) + "/s";
    if (rate > 0 && total_ > count_) {
      line += "  ETA " + Seconds(static_cast<double>(total_ - count_) / rate);
    }
  }
  // \r and "erase to the end of the line": each draw replaces the previous one.
  std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
  drawn_ = true;
  std::fflush(stderr);
}

}  // namespace mnemo::cli
