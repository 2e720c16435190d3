// Event-anchored windows: the parser is write::FindAnchoredExpressions; here anchors are
// looked up (lexically) or resolved (as times), and offsets become windows of whole UTC days.
#include "engine/anchors.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "util/time_util.h"
#include "write/extract_rules.h"

namespace mnemo::engine {
namespace {

using write::AnchoredExpression;
using write::AnchorUnit;
using write::internal::DayOf;
using write::internal::kDayMs;

// The same day of the month `months` months away, clamped to the month's length.
int64_t ShiftMonths(int64_t day, int64_t months) {
  const write::internal::CivilDate c = write::internal::CivilFromDays(day);
  int64_t m = static_cast<int64_t>(c.month) - 1 + months;
  int64_t y = c.year + (m >= 0 ? m / 12 : (m - 11) / 12);
  m = ((m % 12) + 12) % 12 + 1;
  const auto month = static_cast<unsigned>(m);
  return util::DaysFromCivil(y, month, std::min(c.day, write::internal::DaysInMonth(y, month)));
}

// A window of days [first, end), or nullopt when empty.
std::optional<read::DateMention> Days(int64_t first, int64_t end) {
  if (end <= first) return std::nullopt;
  return read::DateMention{first * kDayMs, end * kDayMs};
}

// The time of the anchor event: the best lexical match of its terms with an event time.
Result<std::optional<TimeMs>> FindAnchorEvent(const Filter& filter, const std::string& anchor,
                                              const AnchorSearchFn& search) {
  const std::vector<std::string> terms = read::QueryTerms(anchor);
  if (terms.empty()) return std::optional<TimeMs>();
  Filter f = filter;
  f.time_from.reset();
  f.time_to.reset();
  MNEMO_ASSIGN_OR_RETURN(const auto rows, search(terms, f));
  std::optional<TimeMs> fallback;
  for (const Memory& m : rows) {  // best BM25 first
    if (!m.event_time) continue;
    const std::vector<std::string> own = read::QueryTerms(m.text);
    const std::unordered_set<std::string> has(own.begin(), own.end());
    const bool all = std::all_of(terms.begin(), terms.end(),
                                 [&](const std::string& t) { return has.count(t) > 0; });
    if (all) return std::optional<TimeMs>(*m.event_time);
    if (!fallback) fallback = m.event_time;
  }
  return fallback;
}

}  // namespace

std::optional<read::DateMention> AnchorWindow(const AnchoredExpression& e, TimeMs anchor_from,
                                              TimeMs anchor_to, TimeMs now) {
  const int64_t first = DayOf(anchor_from);
  const int64_t last = std::max(first, DayOf(anchor_to - 1));
  const int64_t today = DayOf(now);
  if (e.open) {
    if (e.since) return Days(first, today + 1);
    if (!e.after) return Days(first - kOpenHorizonDays, first);
    int64_t end = last + 1 + kOpenHorizonDays;
    if (today > last) end = std::min(end, today + 1);
    return Days(last + 1, end);
  }
  const int64_t a = e.after ? last : first;
  const int64_t sign = e.after ? 1 : -1;
  const int64_t c = std::max<int64_t>(1, e.count);
  switch (e.unit) {
    case AnchorUnit::kDay: {
      const int64_t t = a + sign * c;
      return Days(t, t + 1);
    }
    case AnchorUnit::kWeek: {
      if (e.whole) return e.after ? Days(a + 1, a + 8) : Days(a - 7, a);
      const int64_t t = a + sign * 7 * c;
      return Days(t - 3, t + 4);
    }
    case AnchorUnit::kWeekend: {
      const int64_t monday = a - write::internal::Weekday(a);
      int64_t saturday;
      if (e.after) {
        saturday = (write::internal::Weekday(a) < 5 ? monday + 5 : monday + 12) + 7 * (c - 1);
      } else {
        saturday = monday - 2 - 7 * (c - 1);
      }
      return Days(saturday, saturday + 2);
    }
    case AnchorUnit::kWeekday: {
      if (e.weekday < 0 || e.weekday > 6) return std::nullopt;
      int64_t d = a + sign;
      while (write::internal::Weekday(d) != e.weekday) d += sign;
      d += sign * 7 * (c - 1);
      return Days(d, d + 1);
    }
    case AnchorUnit::kMonth:
    case AnchorUnit::kYear: {
      const int64_t months = (e.unit == AnchorUnit::kMonth ? 1 : 12) * c;
      const int64_t t = ShiftMonths(a, sign * months);
      if (e.whole) return e.after ? Days(a + 1, t + 1) : Days(t, a);
      const int64_t slack = e.unit == AnchorUnit::kMonth ? 7 : 30;
      return Days(t - slack, t + slack + 1);
    }
  }
  return std::nullopt;
}

Result<std::vector<read::DateMention>> AnchoredWindows(const SearchRequest& req, TimeMs now,
                                                       const AnchorSearchFn& search) {
  std::vector<read::DateMention> out;
  auto found = write::FindAnchoredExpressions(req.query);
  if (found.size() > kMaxAnchoredExpressions) found.resize(kMaxAnchoredExpressions);
  for (const AnchoredExpression& e : found) {
    TimeMs from = 0;
    TimeMs to = 0;
    if (e.anchor_is_time) {
      const auto times = write::ResolveTimes(e.anchor, now);
      if (times.empty()) continue;
      from = times.front().start;
      to = times.front().end_time;
    } else {
      MNEMO_ASSIGN_OR_RETURN(auto when, FindAnchorEvent(req.filter, e.anchor, search));
      if (!when) continue;
      from = DayOf(*when) * kDayMs;
      to = from + kDayMs;
    }
    if (auto window = AnchorWindow(e, from, to, now)) out.push_back(*window);
  }
  return out;
}

}  // namespace mnemo::engine
