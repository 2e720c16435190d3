// Event-anchored time expressions in a query ("two days before the wedding", "since the
// move", "the week before August 3, 2023"): each anchor is found in the space (a lexical
// search for the event) or resolved as a time, and the expression becomes an event-time
// window that Space::Search treats like a date the query names (SearchRequest::date_weight).
//
// Thread safety: pure functions; the search function decides its own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mnemo/query.h"
#include "mnemo/status.h"
#include "read/query.h"
#include "write/time_expressions.h"

namespace mnemo::engine {

// How far an open expression reaches from its anchor: "before the wedding" is the
// kOpenHorizonDays before it, "after the race" the kOpenHorizonDays after it (never past
// the reference time when that is later than the anchor). "since the move" runs to the
// reference time.
inline constexpr int64_t kOpenHorizonDays = 365;
// Lexical candidates examined for each anchor event.
inline constexpr int kAnchorCandidates = 20;
// At most this many anchored expressions of one query are resolved.
inline constexpr size_t kMaxAnchoredExpressions = 4;

// The event-time window [from, to) of `e` given its anchor's period [anchor_from,
// anchor_to) (a whole day for an event; the named period for a time anchor) and the
// reference time `now`. Offsets count from the anchor's first day ("before") or last day
// ("after"):
//   days ("two days before"): that day; the search pads it by a day on each side, so the
//     anchor day itself stays outside "two days before" (but not "the day before").
//   weeks: "the week before/after" is the 7 days next to the anchor; "N weeks" is the
//     day N x 7 away +- 3 days.
//   weekends, weekdays: the N-th Saturday-Sunday / named day strictly before or after.
//   months, years: "the month before" is the calendar month's worth of days next to the
//     anchor; "N months" is the same day N months away +- 7 days, "N years" +- 30 days.
//   open: see kOpenHorizonDays.
// nullopt when the window would be empty ("since X" with X after now).
std::optional<read::DateMention> AnchorWindow(const write::AnchoredExpression& e,
                                              TimeMs anchor_from, TimeMs anchor_to, TimeMs now);

// The best lexical matches of `terms` among the memories passing `filter`, best first
// (at most kAnchorCandidates): Space::Search binds it to the space.
using AnchorSearchFn = std::function<Result<std::vector<Memory>>(
    const std::vector<std::string>& terms, const Filter& filter)>;

// The windows of the anchored expressions in req.query. An event anchor ("the wedding")
// is the best lexical match of the anchor's terms that has an event time, searched with
// req.filter minus its time range (the anchor is a reference point, not a result): the
// best-scoring match that contains every anchor term, else the best-scoring match. A time
// anchor ("August 11, 2023", "yesterday") is resolved against `now` (req.now, else the
// clock). An anchor that matches nothing gives no window.
Result<std::vector<read::DateMention>> AnchoredWindows(const SearchRequest& req, TimeMs now,
                                                       const AnchorSearchFn& search);

}  // namespace mnemo::engine
