// Time expressions: a tokenizer that keeps byte offsets, then one matcher per family of
// expressions tried at each token, longest wording first. Everything resolves to whole
// UTC days, so periods are computed as day indices and converted to milliseconds last.
#include "write/time_expressions.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <string_view>

#include "util/time_util.h"
#include "write/extract_rules.h"

namespace mnemo::write {
namespace internal {

CivilDate CivilFromDays(int64_t days) {
  CivilDate date;
  util::CivilFromDays(days, &date.year, &date.month, &date.day);
  return date;
}

int64_t DayOf(TimeMs t) { return t >= 0 ? t / kDayMs : -((-t + kDayMs - 1) / kDayMs); }

int Weekday(int64_t days) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return static_cast<int>(((days + 3) % 7 + 7) % 7);
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

std::string FormatPeriod(TimeMs start, TimeMs end) {
  const int64_t first = DayOf(start);
  const int64_t last = DayOf(end - 1);
  const CivilDate a = CivilFromDays(first);
  const CivilDate b = CivilFromDays(last);
  char buf[64];
  if (first == last) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(a.year), a.month,
                  a.day);
  } else if (a.day == 1 && a.month == 1 && b.month == 12 && b.day == 31 && a.year == b.year) {
    std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(a.year));
  } else if (a.day == 1 && a.year == b.year && a.month == b.month &&
             b.day == DaysInMonth(b.year, b.month)) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u", static_cast<long long>(a.year), a.month);
  } else if (last - first == 6 && Weekday(first) == 0) {
    std::snprintf(buf, sizeof buf, "week of %04lld-%02u-%02u", static_cast<long long>(a.year),
                  a.month, a.day);
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u to %04lld-%02u-%02u",
                  static_cast<long long>(a.year), a.month, a.day, static_cast<long long>(b.year),
                  b.month, b.day);
  }
  return buf;
}

}  // namespace internal

namespace {

using internal::CivilDate;
using internal::CivilFromDays;
using internal::DaysInMonth;
using internal::kDayMs;
using internal::Weekday;

struct Token {
  size_t begin = 0;
  size_t end = 0;
  std::string lower;
  bool capitalised = false;
  int number = -1;       // value of an all-digit token, or of "3rd"; -1 otherwise
  bool ordinal = false;  // "3rd", "21st"
  int64_t iso_day = -1;  // day index of an ISO date token "2023-05-08", -1 otherwise
  bool four_digits = false;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// ASCII word tokens; every other byte (including all of non-ASCII UTF-8) separates. No
// time word is non-ASCII, and separating keeps offsets exact.
std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!IsAlnum(text[pos])) {
      ++pos;
      continue;
    }
    Token t;
    t.begin = pos;
    while (pos < text.size() && IsAlnum(text[pos])) ++pos;
    t.end = pos;
    std::string_view word = text.substr(t.begin, t.end - t.begin);
    // "2023-05-08" is one token.
    if (word.size() == 4 && pos + 6 <= text.size() && text[pos] == '-' && IsDigit(text[pos + 1]) &&
        IsDigit(text[pos + 2]) && text[pos + 3] == '-' && IsDigit(text[pos + 4]) &&
        IsDigit(text[pos + 5]) && (pos + 6 == text.size() || !IsAlnum(text[pos + 6]))) {
      auto parsed = util::ParseIso8601(text.substr(t.begin, 10));
      if (parsed.ok()) {
        t.end = pos = t.begin + 10;
        t.iso_day = internal::DayOf(*parsed);
        tokens.push_back(std::move(t));
        continue;
      }
    }
    t.capitalised = word[0] >= 'A' && word[0] <= 'Z';
    for (char c : word) t.lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    size_t digits = 0;
    while (digits < word.size() && IsDigit(word[digits])) ++digits;
    if (digits > 0 && digits <= 4) {
      std::string_view suffix = std::string_view(t.lower).substr(digits);
      if (suffix.empty() || suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") {
        t.number = 0;
        for (size_t i = 0; i < digits; ++i) t.number = t.number * 10 + (word[i] - '0');
        t.ordinal = !suffix.empty();
        t.four_digits = digits == 4 && suffix.empty();
      }
    }
    tokens.push_back(std::move(t));
  }
  return tokens;
}

struct Period {
  int64_t first = 0;  // day indices, [first, end)
  int64_t end = 0;
};

Period Day(int64_t d) { return {d, d + 1}; }
Period Week(int64_t d) {
  const int64_t monday = d - Weekday(d);
  return {monday, monday + 7};
}
Period Weekend(int64_t d) {
  const int64_t monday = d - Weekday(d);
  return {monday + 5, monday + 7};
}
Period Month(int64_t y, int m) {
  // Normalise a month that arithmetic pushed outside 1..12.
  y += (m - 1 >= 0 ? (m - 1) / 12 : (m - 12) / 12);
  m = ((m - 1) % 12 + 12) % 12 + 1;
  const auto um = static_cast<unsigned>(m);
  const int64_t first = util::DaysFromCivil(y, um, 1);
  return {first, first + DaysInMonth(y, um)};
}
Period Year(int64_t y) { return {util::DaysFromCivil(y, 1, 1), util::DaysFromCivil(y + 1, 1, 1)}; }

enum class Unit { kNone, kDay, kWeek, kWeekend, kMonth, kYear };

Unit UnitOf(std::string_view w) {
  if (w == "day" || w == "days") return Unit::kDay;
  if (w == "week" || w == "weeks") return Unit::kWeek;
  if (w == "weekend" || w == "weekends") return Unit::kWeekend;
  if (w == "month" || w == "months") return Unit::kMonth;
  if (w == "year" || w == "years") return Unit::kYear;
  return Unit::kNone;
}

int WeekdayOf(std::string_view w) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (w == kNames[i]) return static_cast<int>(i);
  }
  return -1;
}

// 1-12 for a month name (full, three letters, or "sept"), 0 otherwise. `*full` tells
// whether the full name was used.
int MonthOf(std::string_view w, bool* full) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (w == kNames[i]) {
      *full = true;
      return static_cast<int>(i) + 1;
    }
    if (w.size() == 3 && kNames[i].substr(0, 3) == w) {
      *full = false;
      return static_cast<int>(i) + 1;
    }
  }
  *full = false;
  return w == "sept" ? 9 : 0;
}

bool IsMonthAbbreviation(std::string_view w) {
  bool full = false;
  return MonthOf(w, &full) > 0 && !full;
}

class Resolver {
 public:
  Resolver(std::string_view text, TimeMs reference)
      : text_(text), tokens_(Tokenize(text)), today_(internal::DayOf(reference)) {
    const CivilDate c = CivilFromDays(today_);
    year_ = c.year;
    month_ = static_cast<int>(c.month);
  }

  std::vector<TimeMention> Run() const {
    std::vector<TimeMention> out;
    size_t i = 0;
    while (i < tokens_.size()) {
      Period p;
      size_t from = i;
      const size_t n = Match(i, &p, &from);
      if (n == 0) {
        ++i;
        continue;
      }
      TimeMention m;
      m.begin = tokens_[from].begin;
      m.end = tokens_[i + n - 1].end;
      m.text = std::string(text_.substr(m.begin, m.end - m.begin));
      m.start = p.first * kDayMs;
      m.end_time = p.end * kDayMs;
      out.push_back(std::move(m));
      i += n;
    }
    return out;
  }

 private:
  const std::string& W(size_t i) const {
    static const std::string& kEmpty = *new std::string();
    return i < tokens_.size() ? tokens_[i].lower : kEmpty;
  }

  // True if tokens i-1 and i are adjacent words: only spaces and at most one comma between
  // them (and the dot of an abbreviated month name such as "Jun.").
  bool Joined(size_t i) const {
    if (i == 0 || i >= tokens_.size()) return false;
    int commas = 0;
    for (size_t p = tokens_[i - 1].end; p < tokens_[i].begin; ++p) {
      const char c = text_[p];
      if (c == ',') {
        ++commas;
      } else if (c == '.' && p == tokens_[i - 1].end && IsMonthAbbreviation(tokens_[i - 1].lower)) {
        continue;
      } else if (c != ' ' && c != '\t') {
        return false;
      }
    }
    return commas <= 1;
  }

  // Words from tokens_[i] on, all joined. Empty entries in `words` match anything.
  bool Seq(size_t i, std::initializer_list<std::string_view> words) const {
    size_t k = 0;
    for (std::string_view w : words) {
      if (i + k >= tokens_.size() || (k > 0 && !Joined(i + k))) return false;
      if (tokens_[i + k].lower != w) return false;
      ++k;
    }
    return true;
  }

  // A count: digits, one..twelve, "a", "an", "a couple (of)", "(a) few". Returns tokens used.
  size_t Count(size_t i, int64_t* value) const {
    static constexpr std::array<std::string_view, 12> kWords = {"one",  "two", "three",  "four",
                                                                "five", "six", "seven",  "eight",
                                                                "nine", "ten", "eleven", "twelve"};
    if (i >= tokens_.size()) return 0;
    const Token& t = tokens_[i];
    if (t.number > 0 && !t.ordinal) {
      *value = t.number;
      return 1;
    }
    for (size_t k = 0; k < kWords.size(); ++k) {
      if (t.lower == kWords[k]) {
        *value = static_cast<int64_t>(k) + 1;
        return 1;
      }
    }
    const bool article = t.lower == "a" || t.lower == "an";
    const size_t j = article ? i + 1 : i;
    if (j < tokens_.size() && (j == i || Joined(j))) {
      if (W(j) == "couple") {
        *value = 2;
        return (j - i + 1) + (Seq(j, {"couple", "of"}) ? 1 : 0);
      }
      if (W(j) == "few") {
        *value = 3;
        return j - i + 1;
      }
    }
    if (article) {
      *value = 1;
      return 1;
    }
    return 0;
  }

  // Shifts `unit` by `count` from today: the period containing that day.
  Period Shift(Unit unit, int64_t count) const {
    switch (unit) {
      case Unit::kDay:
        return Day(today_ + count);
      case Unit::kWeek:
        return Week(today_ + 7 * count);
      case Unit::kWeekend:
        return Weekend(today_ + 7 * count);
      case Unit::kMonth:
        return Month(year_, month_ + static_cast<int>(count));
      case Unit::kYear:
        return Year(year_ + count);
      case Unit::kNone:
        break;
    }
    return Day(today_);
  }

  // A month name that may stand alone: capitalised, since "may" and "march" are also verbs
  // and "June" or "April" are also names; callers add their own context requirements.
  int BareMonth(size_t i) const {
    if (i >= tokens_.size() || !tokens_[i].capitalised) return 0;
    bool full = false;
    const int m = MonthOf(tokens_[i].lower, &full);
    return full ? m : 0;
  }

  // The occurrence of month/day nearest to today (within the year before or after), so that
  // "on Dec 28" said on 2 January means the past December.
  Period NearestDay(int month, int day) const {
    int64_t best = 0;
    bool found = false;
    for (int64_t y = year_ - 1; y <= year_ + 1; ++y) {
      if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(y, static_cast<unsigned>(month)))
        continue;
      const int64_t d =
          util::DaysFromCivil(y, static_cast<unsigned>(month), static_cast<unsigned>(day));
      if (!found || std::llabs(d - today_) < std::llabs(best - today_)) best = d;
      found = true;
    }
    return found ? Day(best) : Period{};
  }
  Period NearestMonth(int month) const {
    int delta = month - month_;
    if (delta > 6) delta -= 12;
    if (delta < -6) delta += 12;
    return Month(year_, month_ + delta);
  }

  size_t Match(size_t i, Period* p, size_t* from) const;

 public:
  // Event-anchored expressions (FindAnchoredExpressions); `mentions` are Run()'s.
  std::vector<AnchoredExpression> FindAnchors(const std::vector<TimeMention>& mentions) const;

 private:
  bool AnchorOffset(size_t connective, AnchoredExpression* e, size_t* first) const;
  bool AnchorPhrase(size_t k, const std::vector<TimeMention>& mentions,
                    AnchoredExpression* e) const;
  bool Possessive(size_t i) const;
  bool PhraseJoined(size_t i) const;

  size_t MatchRelative(size_t i, Period* p) const;
  size_t MatchDeictic(size_t i, Period* p) const;
  size_t MatchCalendar(size_t i, Period* p, size_t* from) const;

  std::string_view text_;
  std::vector<Token> tokens_;
  int64_t today_;
  int64_t year_ = 1970;
  int month_ = 1;
};

// yesterday, today, tonight, tomorrow, last night, this morning, the day before yesterday,
// last/this/next <weekday|week|weekend|month|year|month name>, earlier this week...
size_t Resolver::MatchDeictic(size_t i, Period* p) const {
  const std::string& w = W(i);
  if (Seq(i, {"the", "day", "before", "yesterday"})) return *p = Day(today_ - 2), 4;
  if (Seq(i, {"the", "day", "after", "tomorrow"})) return *p = Day(today_ + 2), 4;
  auto day_part = [&](size_t j) {
    const std::string& part = W(j);
    return Joined(j) &&
           (part == "morning" || part == "afternoon" || part == "evening" || part == "night");
  };
  if (w == "yesterday") return *p = Day(today_ - 1), day_part(i + 1) ? 2 : 1;
  if (w == "tomorrow") return *p = Day(today_ + 1), day_part(i + 1) ? 2 : 1;
  if (w == "today" || w == "tonight") return *p = Day(today_), 1;
  if (Seq(i, {"last", "night"})) return *p = Day(today_ - 1), 2;
  if (w == "this" && day_part(i + 1)) return *p = Day(today_), 2;

  if ((w == "earlier" || w == "later") && Seq(i + 1, {"this"}) && Joined(i + 1) && Joined(i + 2)) {
    const Unit unit = UnitOf(W(i + 2));
    if (unit == Unit::kWeek || unit == Unit::kMonth || unit == Unit::kYear) {
      const Period whole = Shift(unit, 0);
      *p = w == "earlier" ? Period{whole.first, today_ + 1} : Period{today_, whole.end};
      return 3;
    }
  }

  // "this past weekend" / "this past Friday" mean the last one.
  size_t lead = 1;
  std::string_view dir = w;
  if (Seq(i, {"this", "past"})) {
    dir = "last";
    lead = 2;
  }
  if (dir != "last" && dir != "this" && dir != "next") return 0;
  const size_t j = i + lead;
  if (j >= tokens_.size() || !Joined(j)) return 0;
  const int step = dir == "last" ? -1 : dir == "next" ? 1 : 0;

  if (const int wd = WeekdayOf(W(j)); wd >= 0) {
    const int today_wd = Weekday(today_);
    int64_t d = today_ - today_wd + wd;  // that weekday in this week
    if (step < 0 && d >= today_) d -= 7;
    if (step > 0 && d <= today_) d += 7;
    *p = Day(d);
    return lead + 1;
  }
  const Unit unit = UnitOf(W(j));
  if (unit != Unit::kNone && W(j).back() != 's') {
    *p = Shift(unit, step);
    return lead + 1;
  }
  if (const int m = BareMonth(j); m > 0 && lead == 1) {
    int64_t y = year_;
    if (step < 0 && m >= month_) --y;
    if (step > 0 && m <= month_) ++y;
    *p = Month(y, m);
    return 2;
  }
  return 0;
}

// N days/weeks/months/years ago; in N days/weeks/months/years.
size_t Resolver::MatchRelative(size_t i, Period* p) const {
  const bool future = W(i) == "in";
  const size_t c = future ? i + 1 : i;
  if (future && !Joined(c)) return 0;
  int64_t count = 0;
  const size_t used = Count(c, &count);
  if (used == 0 || count > 1000) return 0;
  const size_t u = c + used;
  if (!Joined(u)) return 0;
  const Unit unit = UnitOf(W(u));
  if (unit == Unit::kNone || unit == Unit::kWeekend) return 0;
  if (future) {
    if (Joined(u + 1) && W(u + 1) == "ago") return 0;
    // "haven't talked in a few days", "the first time in two years": a duration, not a date.
    for (size_t b = i; b-- > 0 && i - b <= 6;) {
      const std::string& w = W(b);
      if (w == "haven" || w == "hasn" || w == "hadn" || w == "been" || w == "first" ||
          w == "time" || w == "best" || w == "not" || w == "never") {
        return 0;
      }
    }
    *p = Shift(unit, count);
    return u - i + 1;
  }
  if (!Joined(u + 1) || W(u + 1) != "ago") return 0;
  *p = Shift(unit, -count);
  return u - i + 2;
}

// ISO dates, "3 June (2023)", "the 3rd of June", "June 3rd, 2023", "May 2023", "in May",
// "in 2022". `*from` moves when the wording starts before token i (never here, but kept
// symmetrical with the other matchers).
size_t Resolver::MatchCalendar(size_t i, Period* p, size_t* from) const {
  *from = i;
  const Token& t = tokens_[i];
  if (t.iso_day >= 0) return *p = Day(t.iso_day), 1;

  auto year_at = [&](size_t j) -> int64_t {
    if (j < tokens_.size() && Joined(j) && tokens_[j].four_digits && tokens_[j].number >= 1000)
      return tokens_[j].number;
    return -1;
  };
  auto day_period = [&](int64_t y, int m, int d) -> std::optional<Period> {
    if (y < 0) {
      const Period nearest = NearestDay(m, d);
      if (nearest.end == nearest.first) return std::nullopt;
      return nearest;
    }
    if (d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, static_cast<unsigned>(m))) {
      return std::nullopt;
    }
    return Day(util::DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
  };

  bool full = false;
  // Month first: "June 3rd, 2023", "June 3", "May 2023".
  if (int m = MonthOf(t.lower, &full); m > 0) {
    // Verbs and words that are also month names need a capital or a year to count.
    const bool ambiguous = !full || t.lower == "may" || t.lower == "march";
    if (ambiguous && !t.capitalised && year_at(i + 1) < 0) return 0;
    if (i + 1 < tokens_.size() && Joined(i + 1) && tokens_[i + 1].number > 0 &&
        !tokens_[i + 1].four_digits) {
      const int64_t y = year_at(i + 2);
      if (auto day = day_period(y, m, tokens_[i + 1].number)) {
        *p = *day;
        return y >= 0 ? 3 : 2;
      }
      return 0;
    }
    if (const int64_t y = year_at(i + 1); y >= 0) return *p = Month(y, m), 2;
    // A bare month needs a preposition before it ("in May", "since March").
    if (!full || !t.capitalised || i == 0 || !Joined(i)) return 0;
    const std::string& before = W(i - 1);
    if (before == "in" || before == "since" || before == "during" || before == "until" ||
        before == "of" || before == "early" || before == "late" || before == "mid" ||
        before == "by" || before == "from" || before == "through") {
      return *p = NearestMonth(m), 1;
    }
    return 0;
  }
  // Day first: "3 June", "3rd of June 2023".
  if (t.number > 0 && t.number <= 31 && !t.four_digits) {
    size_t j = i + 1;
    if (Joined(j) && W(j) == "of") ++j;
    if (j < tokens_.size() && Joined(j)) {
      const int m = MonthOf(W(j), &full);
      const bool ok =
          m > 0 && (tokens_[j].capitalised || (full && W(j) != "may" && W(j) != "march"));
      if (ok) {
        const int64_t y = year_at(j + 1);
        if (auto day = day_period(y, m, t.number)) {
          *p = *day;
          return j - i + (y >= 0 ? 2 : 1);
        }
      }
    }
    return 0;
  }
  // A bare year after a preposition: "in 2022".
  if (t.four_digits && t.number >= 1900 && t.number <= 2100 && i > 0 && Joined(i)) {
    const std::string& before = W(i - 1);
    if ((before == "in" || before == "since" || before == "during" || before == "of") &&
        !(Joined(i + 1) && UnitOf(W(i + 1)) != Unit::kNone)) {
      return *p = Year(t.number), 1;
    }
  }
  return 0;
}

size_t Resolver::Match(size_t i, Period* p, size_t* from) const {
  *from = i;
  if (size_t n = MatchDeictic(i, p)) return n;
  if (size_t n = MatchRelative(i, p)) return n;
  return MatchCalendar(i, p, from);
}

// ---- event-anchored expressions --------------------------------------------------------

bool InList(std::string_view w, std::initializer_list<std::string_view> list) {
  for (std::string_view x : list) {
    if (w == x) return true;
  }
  return false;
}

// Words after which no event noun phrase follows: pronouns (a clause: "before I left",
// "after that"), idioms ("after all"), times of day and daily routines ("before noon",
// "after work"), durations ("after a while", "after years") and question words.
bool NotAnAnchor(std::string_view w) {
  return InList(
      w, {"i",         "you",        "he",        "she",     "we",       "they",     "it",
          "me",        "him",        "us",        "them",    "that",     "there",    "here",
          "then",      "now",        "all",       "which",   "what",     "when",     "where",
          "who",       "whom",       "how",       "why",     "long",     "ever",     "noon",
          "midnight",  "dawn",       "dusk",      "sunrise", "sunset",   "lunch",    "dinner",
          "breakfast", "brunch",     "supper",    "work",    "school",   "class",    "bed",
          "bedtime",   "dark",       "while",     "time",    "hours",    "hour",     "minutes",
          "minute",    "seconds",    "day",       "days",    "week",     "weeks",    "month",
          "months",    "year",       "years",     "today",   "tonight",  "tomorrow", "yesterday",
          "anything",  "everything", "something", "nothing", "everyone", "anyone",   "someone",
          "one",       "other",      "others",    "so",      "too",      "again",    "and",
          "or",        "but",        "if",        "because"});
}

// Words that end an anchor phrase: conjunctions, auxiliaries, relatives, connectives.
bool EndsAnchor(std::string_view w) {
  return InList(
      w, {"and",    "or",    "but",   "when",   "while",    "did",    "do",    "does",  "was",
          "were",   "is",    "are",   "am",     "be",       "been",   "has",   "have",  "had",
          "will",   "would", "could", "should", "can",      "may",    "might", "must",  "that",
          "which",  "who",   "whom",  "where",  "why",      "how",    "what",  "if",    "because",
          "so",     "then",  "than",  "as",     "yet",      "before", "after", "since", "until",
          "during", "i",     "you",   "he",     "she",      "we",     "they",  "it",    "last",
          "next",   "this",  "ago",   "prior",  "following"});
}

bool Determiner(std::string_view w) {
  return InList(w, {"the", "a", "an", "my", "her", "his", "their", "our", "your", "its", "this",
                    "these", "those", "that"});
}

// Prepositions that may sit inside an anchor ("trip to Paris") but not end it.
bool Preposition(std::string_view w) {
  return InList(w, {"to", "of", "in", "at", "with", "for", "from", "on", "about", "by", "into"});
}

// True if the bytes [a, b) of text hold one apostrophe (ASCII or U+2019) and nothing else.
bool OnlyApostrophe(std::string_view text, size_t a, size_t b) {
  const std::string_view gap = text.substr(a, b - a);
  return gap == "'" || gap == "\xE2\x80\x99";
}

// Token i is the "s" of a possessive ("Caroline's").
bool Resolver::Possessive(size_t i) const {
  return i > 0 && i < tokens_.size() && tokens_[i].lower == "s" &&
         OnlyApostrophe(text_, tokens_[i - 1].end, tokens_[i].begin);
}

// Tokens i-1 and i belong to one noun phrase: spaces, one hyphen ("road-trip") or the
// apostrophe of a possessive between them.
bool Resolver::PhraseJoined(size_t i) const {
  if (i == 0 || i >= tokens_.size()) return false;
  const size_t a = tokens_[i - 1].end;
  const size_t b = tokens_[i].begin;
  if (Possessive(i)) return true;
  if (b == a + 1 && text_[a] == '-') return true;
  for (size_t p = a; p < b; ++p) {
    if (text_[p] != ' ' && text_[p] != '\t') return false;
  }
  return true;
}

// The offset before the connective at token `c`: "two days", "a couple of weeks", "the
// week", "the Sunday", "the night". Sets count/unit/weekday/whole and *first (the first
// token of the offset). False when there is none.
bool Resolver::AnchorOffset(size_t c, AnchoredExpression* e, size_t* first) const {
  if (c == 0 || !Joined(c)) return false;
  const size_t u = c - 1;
  const std::string& w = W(u);
  Unit unit = UnitOf(w);
  const int wd = WeekdayOf(w);
  const bool day_part = w == "night" || w == "morning" || w == "evening" || w == "afternoon";
  if (unit == Unit::kNone && wd < 0 && !day_part) return false;
  if (u == 0 || !Joined(u)) return false;
  const bool plural = w.back() == 's' && wd < 0;
  // "the week", "that Sunday", "last weekend": one, the whole unit next to the anchor.
  const std::string& before = W(u - 1);
  int64_t count = 0;
  size_t start = 0;
  bool whole = false;
  if (!plural && (before == "the" || before == "that" || before == "last")) {
    count = 1;
    start = u - 1;
    whole = true;
  } else {
    // A count ending right before the unit: "two", "3", "a", "a couple of", "a few".
    for (size_t back = std::min<size_t>(3, u); back >= 1; --back) {
      const size_t k = u - back;
      bool joined = true;
      for (size_t j = k + 1; j < u; ++j) joined &= Joined(j);
      int64_t value = 0;
      if (joined && Count(k, &value) == back) {
        count = value;
        start = k;
        break;
      }
    }
    if (count <= 0 || count > 1000) return false;
    if (count > 1 && !plural && (unit != Unit::kNone || day_part)) return false;  // "two day"
  }
  e->count = count;
  e->whole = whole;
  if (wd >= 0) {
    e->unit = AnchorUnit::kWeekday;
    e->weekday = wd;
  } else if (day_part || unit == Unit::kDay) {
    e->unit = AnchorUnit::kDay;
  } else if (unit == Unit::kWeek) {
    e->unit = AnchorUnit::kWeek;
  } else if (unit == Unit::kWeekend) {
    e->unit = AnchorUnit::kWeekend;
  } else if (unit == Unit::kMonth) {
    e->unit = AnchorUnit::kMonth;
  } else {
    e->unit = AnchorUnit::kYear;
  }
  *first = start;
  return true;
}

// The anchor from token k on: a time expression starting there (optionally after "the"
// or "on"), else a noun phrase. False when there is no anchor.
bool Resolver::AnchorPhrase(size_t k, const std::vector<TimeMention>& mentions,
                            AnchoredExpression* e) const {
  if (k >= tokens_.size() || !PhraseJoined(k) || Possessive(k)) return false;
  for (size_t j = k; j <= k + 1 && j < tokens_.size(); ++j) {
    if (j > k && !(Joined(j) && (W(k) == "the" || W(k) == "on"))) break;
    for (const TimeMention& m : mentions) {
      if (m.begin == tokens_[j].begin) {
        e->anchor = m.text;
        e->anchor_is_time = true;
        e->end = m.end;
        return true;
      }
    }
  }
  if (NotAnAnchor(W(k))) return false;
  size_t i = k;
  // Leading determiners and possessives: "the", "my", "Caroline's", "her sister's".
  for (;;) {
    if (i < tokens_.size() && Determiner(W(i)) && (i == k || PhraseJoined(i))) {
      ++i;
    } else if (i + 1 < tokens_.size() && Possessive(i + 1) && (i == k || PhraseJoined(i))) {
      i += 2;
    } else {
      break;
    }
  }
  if (i >= tokens_.size() || (i > k && !PhraseJoined(i)) || NotAnAnchor(W(i)) || EndsAnchor(W(i)) ||
      Preposition(W(i))) {
    return false;
  }
  auto starts_mention = [&](size_t j) {
    for (const TimeMention& m : mentions) {
      if (m.begin == tokens_[j].begin) return true;
    }
    return false;
  };
  const size_t first = i;
  size_t last = i;
  size_t words = 1;
  for (size_t j = i + 1; j < tokens_.size() && words < 6; ++j) {
    if (!PhraseJoined(j) || EndsAnchor(W(j)) || starts_mention(j)) break;
    // "the wedding in June": a preposition followed by a time ends it too.
    if (Preposition(W(j)) && j + 1 < tokens_.size() && starts_mention(j + 1)) break;
    last = j;
    if (!Possessive(j) && !Determiner(W(j)) && !Preposition(W(j))) ++words;
  }
  while (last > first && (Preposition(W(last)) || Determiner(W(last)))) --last;
  e->anchor =
      std::string(text_.substr(tokens_[first].begin, tokens_[last].end - tokens_[first].begin));
  e->end = tokens_[last].end;
  return true;
}

std::vector<AnchoredExpression> Resolver::FindAnchors(
    const std::vector<TimeMention>& mentions) const {
  std::vector<AnchoredExpression> out;
  size_t resume = 0;  // tokens before this belong to an earlier expression
  for (size_t c = 0; c < tokens_.size(); ++c) {
    const std::string& w = W(c);
    AnchoredExpression e;
    size_t anchor_at = c + 1;
    if (w == "before" || w == "until" || w == "till") {
      e.after = false;
    } else if (w == "after" || w == "since") {
      e.after = true;
      e.since = w == "since";
    } else if (w == "prior" && Seq(c, {"prior", "to"})) {
      e.after = false;
      anchor_at = c + 2;
    } else {
      continue;
    }
    // ResolveTimes' own wordings: "the day before yesterday", "since May".
    bool inside = false;
    for (const TimeMention& m : mentions) {
      inside |= m.begin <= tokens_[c].begin && tokens_[c].begin < m.end;
    }
    if (inside) continue;
    size_t first = c;
    if (e.since || w == "until" || w == "till" || !AnchorOffset(c, &e, &first) || first < resume) {
      e.open = true;
      e.count = 0;
      e.whole = false;
      e.unit = AnchorUnit::kDay;
      e.weekday = -1;
      first = c;
    }
    if (!AnchorPhrase(anchor_at, mentions, &e)) continue;
    e.begin = tokens_[first].begin;
    e.text = std::string(text_.substr(e.begin, e.end - e.begin));
    while (resume < tokens_.size() && tokens_[resume].begin < e.end) ++resume;
    out.push_back(std::move(e));
  }
  return out;
}
}  // namespace

std::vector<TimeMention> ResolveTimes(std::string_view text, TimeMs reference) {
  return Resolver(text, reference).Run();
}

std::vector<AnchoredExpression> FindAnchoredExpressions(std::string_view text) {
  // The reference only moves the periods, not which wordings are time expressions.
  const Resolver resolver(text, 0);
  return resolver.FindAnchors(resolver.Run());
}

}  // namespace mnemo::write
