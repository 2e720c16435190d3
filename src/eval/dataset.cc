#include "eval/dataset.h"

#include <array>
#include <cctype>
#include <cstdio>

#include "util/time_util.h"

namespace mnemo::eval {
namespace {

// A cursor over a short date string; every Read* returns false on a mismatch.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool done() const { return pos_ == s_.size(); }
  void SkipSpaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  bool ReadChar(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  // 1..max_digits decimal digits.
  bool ReadInt(int max_digits, int* out) {
    int n = 0, v = 0;
    while (pos_ < s_.size() && n < max_digits &&
           std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      v = v * 10 + (s_[pos_++] - '0');
      ++n;
    }
    *out = v;
    return n > 0;
  }
  // A run of ASCII letters, lower-cased.
  std::string ReadWord() {
    std::string w;
    while (pos_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(s_[pos_++])));
    }
    return w;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Calendar validation (Feb 30, leap years) is ParseIso8601's job: the adapters only
// rearrange fields into ISO form.
Result<TimeMs> FromFields(int year, int month, int day, int hour, int minute,
                          std::string_view original) {
  char iso[32];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:00Z", year, month, day, hour, minute);
  auto t = util::ParseIso8601(iso);
  if (!t.ok()) return Status::InvalidArgument("invalid date \"" + std::string(original) + "\"");
  return *t;
}

int MonthNumber(const std::string& word) {
  static constexpr std::array<const char*, 12> kMonths = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  for (size_t i = 0; i < kMonths.size(); ++i) {
    const std::string full = kMonths[i];
    if (word == full || (word.size() == 3 && full.compare(0, 3, word) == 0)) {
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

}  // namespace

Result<TimeMs> ParseLocomoDateTime(std::string_view text) {
  const Status bad = Status::InvalidArgument(
      "expected a date like \"1:56 pm on 8 May, 2023\", got \"" + std::string(text) + "\"");
  Scanner sc(text);
  int hour = 0, minute = 0, day = 0, year = 0;
  sc.SkipSpaces();
  if (!sc.ReadInt(2, &hour) || !sc.ReadChar(':') || !sc.ReadInt(2, &minute)) return bad;
  sc.SkipSpaces();
  const std::string half = sc.ReadWord();
  if ((half != "am" && half != "pm") || hour < 1 || hour > 12 || minute > 59) return bad;
  hour = hour % 12 + (half == "pm" ? 12 : 0);  // 12 am is midnight, 12 pm is noon
  sc.SkipSpaces();
  if (sc.ReadWord() != "on") return bad;
  sc.SkipSpaces();
  if (!sc.ReadInt(2, &day)) return bad;
  sc.SkipSpaces();
  const int month = MonthNumber(sc.ReadWord());
  if (month == 0) return bad;
  sc.ReadChar(',');
  sc.SkipSpaces();
  if (!sc.ReadInt(4, &year)) return bad;
  sc.SkipSpaces();
  if (!sc.done()) return bad;
  return FromFields(year, month, day, hour, minute, text);
}

Result<TimeMs> ParseLongMemEvalDate(std::string_view text) {
  const Status bad = Status::InvalidArgument(
      "expected a date like \"2023/05/20 (Sat) 02:21\", got \"" + std::string(text) + "\"");
  Scanner sc(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  sc.SkipSpaces();
  if (!sc.ReadInt(4, &year) || !sc.ReadChar('/') || !sc.ReadInt(2, &month) || !sc.ReadChar('/') ||
      !sc.ReadInt(2, &day)) {
    return bad;
  }
  sc.SkipSpaces();
  if (sc.ReadChar('(')) {
    if (sc.ReadWord().empty() || !sc.ReadChar(')')) return bad;
    sc.SkipSpaces();
  }
  if (!sc.ReadInt(2, &hour) || !sc.ReadChar(':') || !sc.ReadInt(2, &minute)) return bad;
  sc.SkipSpaces();
  if (!sc.done()) return bad;
  return FromFields(year, month, day, hour, minute, text);
}

namespace internal {

const util::Json* Find(const util::Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::optional<std::string> ScalarText(const util::Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return util::DumpJson(v);
  return std::nullopt;
}

Status At(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + ": " + what);
}

Status SkipOrFail(const Status& bad, const ParseOptions& options, LoadStats* stats) {
  if (!options.skip_bad) return bad;
  ++stats->skipped_records;
  stats->problems.push_back(bad.message());
  return Status::Ok();
}

}  // namespace internal
}  // namespace mnemo::eval
