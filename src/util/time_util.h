// ISO 8601 times <-> Unix epoch milliseconds (UTC).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mnemo/memory.h"
#include "mnemo/status.h"

namespace mnemo::util {

// Accepts "2023-05-08", "2023-05-08T13:56", "2023-05-08T13:56:07", with optional
// fraction (".123", up to 9 digits; truncated to ms), and a zone "Z", "+02:00", "+0200"
// or none (UTC). A space may replace the 'T'. Years 0001-9999. Rejects anything else
// with a message naming the problem.
Result<TimeMs> ParseIso8601(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date (m 1-12, d 1-31).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
// The inverse: the date of `days` since 1970-01-01 (floor semantics before 1970).
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

// "2023-05-08T13:56:07Z", or "2023-05-08T13:56:07.120Z" when the milliseconds are not 0.
std::string FormatIso8601(TimeMs t);

// The longest duration, TTL or retention setting mnemo takes: 100 years (of 365.25 days).
inline constexpr int64_t kMaxDurationMs = 36525LL * 24 * 3600 * 1000;

// A duration (at most kMaxDurationMs): a positive integer and a unit, "ms", "s", "m" (minutes),
// "h", "d" or "w"
// ("90d", "12h", "500ms"), in milliseconds. Errors name the text and the accepted form.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace mnemo::util
