// Query analysis: a user's query text as the lexical index's terms, and the dates it names.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mnemo/memory.h"

namespace mnemo::read {

// The distinct terms of the query (text::Terms), in first-occurrence order.
std::vector<std::string> QueryTerms(std::string_view query);

// A calendar period a query names ("on 1 February, 2023", "in June 2022",
// "2023-05-08"): [from, to) in UTC milliseconds.
struct DateMention {
  TimeMs from = 0;
  TimeMs to = 0;
};

// The dates a query mentions: day-month-year and month-day-year with English month
// names (full or three letters, any case, optional commas), month-year, and ISO dates.
// Bare years and relative phrases ("last week") are not dates here.
std::vector<DateMention> DateMentions(std::string_view query);

}  // namespace mnemo::read
