// Internal to src/write: the UTC calendar arithmetic behind ResolveTimes (extract_rules.h)
// and the wording of a resolved period in a derived memory's text.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "mnemo/memory.h"

namespace mnemo::write::internal {

inline constexpr TimeMs kDayMs = 86'400'000;

struct CivilDate {
  int64_t year = 1970;
  unsigned month = 1;  // 1-12
  unsigned day = 1;    // 1-31
};

// Days since 1970-01-01 <-> proleptic Gregorian date; floor semantics before 1970.
CivilDate CivilFromDays(int64_t days);
int64_t DayOf(TimeMs t);  // the day index containing t (floor, not truncation)
// 0 = Monday ... 6 = Sunday (ISO order: weeks run Monday..Sunday).
int Weekday(int64_t days);
unsigned DaysInMonth(int64_t year, unsigned month);

// "2023-05-05" for a day, "2023-05" for a calendar month, "2023" for a calendar year,
// "week of 2023-05-01" for a Monday..Sunday week, "2023-05-06 to 2023-05-07" otherwise
// (end is exclusive, the text names the last day). Used in texts such as
// "Melanie went camping last Friday (2023-05-05)".
std::string FormatPeriod(TimeMs start, TimeMs end);

}  // namespace mnemo::write::internal
