#include "util/time_util.h"

#include <cstdint>
#include <cstdio>

namespace mnemo::util {

// Howard Hinnant's civil algorithm.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

namespace {

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool Done() const { return pos_ >= s_.size(); }
  char Peek() const { return Done() ? '\0' : s_[pos_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  // Reads exactly n digits.
  bool Digits(int n, int* out) {
    int v = 0;
    for (int i = 0; i < n; ++i) {
      char c = Peek();
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
      ++pos_;
    }
    *out = v;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("invalid time \"" + std::string(text) + "\": " + std::string(why) +
                                 " (expected ISO 8601, e.g. 2023-05-08T13:56:00Z)");
}

}  // namespace

Result<TimeMs> ParseIso8601(std::string_view text) {
  Cursor c(text);
  int year, month, day;
  if (!c.Digits(4, &year) || !c.Eat('-') || !c.Digits(2, &month) || !c.Eat('-') ||
      !c.Digits(2, &day)) {
    return Bad(text, "the date must be YYYY-MM-DD");
  }
  if (year < 1 || month < 1 || month > 12) return Bad(text, "month out of range");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month)) {
    return Bad(text, "day out of range");
  }
  int hour = 0, minute = 0, second = 0, millis = 0;
  int64_t offset_minutes = 0;
  if (!c.Done()) {
    if (!c.Eat('T') && !c.Eat('t') && !c.Eat(' ')) return Bad(text, "expected 'T' after the date");
    if (!c.Digits(2, &hour) || !c.Eat(':') || !c.Digits(2, &minute)) {
      return Bad(text, "the time must be hh:mm[:ss]");
    }
    if (c.Eat(':') && !c.Digits(2, &second)) return Bad(text, "seconds must be two digits");
    if (c.Eat('.') || c.Eat(',')) {
      int digits = 0;
      while (c.Peek() >= '0' && c.Peek() <= '9') {
        if (digits < 3) millis = millis * 10 + (c.Peek() - '0');
        ++digits;
        c.Eat(c.Peek());
      }
      if (digits == 0 || digits > 9) return Bad(text, "bad fraction of a second");
      for (int i = digits; i < 3; ++i) millis *= 10;
    }
    // A leap second (:60) is refused rather than moved: time is kept in Unix milliseconds,
    // which have no such second, and a silent :59 would misstate what was sent.
    if (hour > 23 || minute > 59 || second > 59) return Bad(text, "time of day out of range");
    if (c.Eat('Z') || c.Eat('z')) {
      // UTC
    } else if (c.Peek() == '+' || c.Peek() == '-') {
      const int sign = c.Peek() == '-' ? -1 : 1;
      c.Eat(c.Peek());
      int oh, om = 0;
      if (!c.Digits(2, &oh)) return Bad(text, "bad zone offset");
      if (c.Eat(':')) {
        if (!c.Digits(2, &om)) return Bad(text, "bad zone offset");
      } else if (!c.Done()) {
        if (!c.Digits(2, &om)) return Bad(text, "bad zone offset");
      }
      if (oh > 23 || om > 59) return Bad(text, "zone offset out of range");
      offset_minutes = sign * (oh * 60 + om);
    }
  }
  if (!c.Done()) return Bad(text, "unexpected characters after the time");
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return secs * 1000 + millis;
}

std::string FormatIso8601(TimeMs t) {
  int64_t secs = t / 1000;
  int64_t ms = t % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[48];
  const int hh = static_cast<int>(rem / 3600), mm = static_cast<int>(rem % 3600 / 60),
            ss = static_cast<int>(rem % 60);
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(y), m, d, hh, mm, ss, static_cast<int>(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m,
                  d, hh, mm, ss);
  }
  return buf;
}

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a duration: give a positive whole number and a unit "
                                   "(ms, s, m, h, d, w), e.g. 90d or 12h");
  };
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return bad();
  const int64_t n = std::stoll(std::string(text.substr(0, digits)));
  const std::string_view unit = text.substr(digits);
  int64_t scale = 0;
  if (unit == "ms") scale = 1;
  if (unit == "s") scale = 1000;
  if (unit == "m") scale = 60LL * 1000;
  if (unit == "h") scale = 3600LL * 1000;
  if (unit == "d") scale = 24LL * 3600 * 1000;
  if (unit == "w") scale = 7LL * 24 * 3600 * 1000;
  if (scale == 0 || n <= 0) return bad();
  constexpr int64_t kMax = kMaxDurationMs;
  if (n > kMax / scale) {
    return Status::InvalidArgument("'" + std::string(text) + "' is longer than 100 years");
  }
  return n * scale;
}

}  // namespace mnemo::util
