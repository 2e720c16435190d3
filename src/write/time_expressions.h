// Time expressions beyond ResolveTimes (extract_rules.h): expressions anchored on an event
// ("two days before the wedding"), used by search (engine/anchors.h). And, internal to
// src/write, the UTC calendar arithmetic behind ResolveTimes and the wording of a resolved
// period in a derived memory's text.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/memory.h"

namespace mnemo::write {

// The unit of an anchored offset. kWeekday is a named day ("the Sunday before X").
enum class AnchorUnit { kDay, kWeek, kWeekend, kWeekday, kMonth, kYear };

// A time expression anchored on an event rather than on now:
//   point: "two days before the wedding", "the week after her graduation", "a couple of
//          weeks before my trip to Paris", "the Sunday before October 25, 2022"
//   open:  "before the wedding", "after the race", "since the move", "until the trip",
//          "prior to the move"
// The anchor is the noun phrase after the connective with leading determiners and
// possessives stripped ("the", "my", "her", "Caroline's"), up to punctuation, a clause
// word ("and", "when", "did", "was", ...), another time expression or 6 content words
// (determiners and prepositions inside do not count). Counts: digits, "one".."twelve",
// "a"/"an" (1), "a couple (of)" (2), "a few" (3); "the"/"that"/"last" + a singular unit is
// one whole unit ("the week before X"). "night"/"morning"/"evening" count as days. Not
// anchors: pronouns and clauses ("before I left", "after that"), idioms ("after all"),
// times of day and routines ("before noon", "after work", "after dinner"), durations
// ("after a while") and wordings ResolveTimes resolves itself ("the day before
// yesterday"). "since"/"until" take no offset.
struct AnchoredExpression {
  size_t begin = 0;  // byte offsets of the whole wording in the text
  size_t end = 0;
  std::string text;    // "two days before the wedding"
  bool after = false;  // direction: "after", "since" (true) or "before", "until" (false)
  bool open = false;   // no offset: up to the anchor, or from it on
  bool since = false;  // open, and runs up to now ("since the move")
  int64_t count = 0;   // point: the offset is count x unit (count >= 1); 0 when open
  AnchorUnit unit = AnchorUnit::kDay;
  int weekday = -1;    // kWeekday: 0 = Monday ... 6 = Sunday
  bool whole = false;  // "the week before X": the whole unit next to the anchor
  std::string anchor;  // "wedding", "trip to Paris", "August 11, 2023"
  // The anchor is itself a time expression ("two weeks before August 11, 2023"): its
  // time is ResolveTimes(anchor, now), not an event to look up.
  bool anchor_is_time = false;
};

// The anchored expressions of `text`, in order of appearance.
std::vector<AnchoredExpression> FindAnchoredExpressions(std::string_view text);

}  // namespace mnemo::write

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
