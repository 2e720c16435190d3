#include "read/query.h"

#include <cctype>
#include <unordered_set>

#include "text/analyzer.h"
#include "util/time_util.h"

namespace mnemo::read {

std::vector<std::string> QueryTerms(std::string_view query) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (auto& t : text::Terms(query)) {
    if (seen.insert(t).second) out.push_back(std::move(t));
  }
  return out;
}

namespace {

constexpr TimeMs kDayMs = 24LL * 3600 * 1000;

// 1-12 for an English month name or its three-letter abbreviation ("Sept" too), else 0.
int MonthNumber(std::string_view word) {
  static constexpr const char* kMonths[] = {"january",   "february", "march",    "april",
                                            "may",       "june",     "july",     "august",
                                            "september", "october",  "november", "december"};
  if (word.size() < 3) return 0;
  std::string w;
  for (char c : word) w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (w == "sept") w = "sep";
  for (int i = 0; i < 12; ++i) {
    const std::string_view full = kMonths[i];
    if (w == full || (w.size() == 3 && full.substr(0, 3) == w)) return i + 1;
  }
  return 0;
}

int Number(std::string_view word, size_t min_digits, size_t max_digits) {
  if (word.size() < min_digits || word.size() > max_digits) return -1;
  int n = 0;
  for (char c : word) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

int DayNumber(std::string_view word) {
  // "1", "01", "1st", "22nd", "3rd", "4th"
  size_t digits = 0;
  while (digits < word.size() && std::isdigit(static_cast<unsigned char>(word[digits]))) ++digits;
  const std::string_view suffix = word.substr(digits);
  if (!suffix.empty() && suffix != "st" && suffix != "nd" && suffix != "rd" && suffix != "th") {
    return -1;
  }
  const int d = Number(word.substr(0, digits), 1, 2);
  return d >= 1 && d <= 31 ? d : -1;
}

DateMention Day(int y, int m, int d) {
  const TimeMs from =
      util::DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * kDayMs;
  return {from, from + kDayMs};
}

DateMention Month(int y, int m) {
  const int ny = m == 12 ? y + 1 : y;
  const int nm = m == 12 ? 1 : m + 1;
  return {util::DaysFromCivil(y, static_cast<unsigned>(m), 1) * kDayMs,
          util::DaysFromCivil(ny, static_cast<unsigned>(nm), 1) * kDayMs};
}

}  // namespace

std::vector<DateMention> DateMentions(std::string_view query) {
  // Words: runs of letters or digits; ISO dates are caught whole first.
  std::vector<std::string_view> words;
  std::vector<DateMention> out;
  size_t i = 0;
  while (i < query.size()) {
    const auto c = static_cast<unsigned char>(query[i]);
    if (!std::isalnum(c)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < query.size() && std::isalnum(static_cast<unsigned char>(query[j]))) ++j;
    // YYYY-MM-DD
    if (j - i == 4 && j + 6 <= query.size() && query[j] == '-' && query[j + 3] == '-') {
      const int y = Number(query.substr(i, 4), 4, 4);
      const int m = Number(query.substr(j + 1, 2), 2, 2);
      const int d = Number(query.substr(j + 4, 2), 2, 2);
      if (y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
        out.push_back(Day(y, m, d));
        i = j + 6;
        continue;
      }
    }
    words.push_back(query.substr(i, j - i));
    i = j;
  }
  auto year_at = [&](size_t k) { return k < words.size() ? Number(words[k], 4, 4) : -1; };
  for (size_t k = 0; k < words.size(); ++k) {
    const int month = MonthNumber(words[k]);
    if (month == 0) continue;
    // A day the month does not have ("31 April") leaves the month-year reading.
    auto day_in = [&](size_t w, int year) {
      const int d = w < words.size() ? DayNumber(words[w]) : -1;
      const DateMention m = Month(year, month);
      return d > 0 && static_cast<TimeMs>(d) * kDayMs <= m.to - m.from ? d : -1;
    };
    if (k > 0 && year_at(k + 1) > 0 && day_in(k - 1, year_at(k + 1)) > 0) {  // 1 Feb 2023
      out.push_back(Day(year_at(k + 1), month, day_in(k - 1, year_at(k + 1))));
    } else if (year_at(k + 2) > 0 && day_in(k + 1, year_at(k + 2)) > 0) {  // Feb 1, 2023
      out.push_back(Day(year_at(k + 2), month, day_in(k + 1, year_at(k + 2))));
    } else if (year_at(k + 1) > 0) {  // February 2023
      out.push_back(Month(year_at(k + 1), month));
    }
  }
  return out;
}

}  // namespace mnemo::read
