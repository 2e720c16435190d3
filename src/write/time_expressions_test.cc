#include "write/time_expressions.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "util/time_util.h"
#include "write/extract_rules.h"

namespace mnemo::write {
namespace {

TimeMs At(const char* iso) { return *util::ParseIso8601(iso); }

// "wording=period" for every mention, e.g. "last Friday=2023-05-05".
std::vector<std::string> Resolve(std::string_view text, const char* reference) {
  std::vector<std::string> out;
  for (const TimeMention& m : ResolveTimes(text, At(reference))) {
    out.push_back(m.text + "=" + internal::FormatPeriod(m.start, m.end_time));
  }
  return out;
}

struct Case {
  const char* text;
  const char* reference;
  std::vector<std::string> expected;
};

void PrintTo(const Case& c, std::ostream* os) { *os << '"' << c.text << "\" at " << c.reference; }

class ResolveTimesTable : public testing::TestWithParam<Case> {};

TEST_P(ResolveTimesTable, Resolves) {
  EXPECT_EQ(Resolve(GetParam().text, GetParam().reference), GetParam().expected);
}

// 2023-05-09 is a Tuesday.
constexpr const char* kTue = "2023-05-09T10:00:00Z";
constexpr const char* kMon = "2023-05-08T23:59:59Z";
constexpr const char* kSun = "2023-05-14T08:00:00Z";

INSTANTIATE_TEST_SUITE_P(
    Deictic, ResolveTimesTable,
    testing::Values(Case{"I went yesterday", kTue, {"yesterday=2023-05-08"}},
                    Case{"today is fine", kTue, {"today=2023-05-09"}},
                    Case{"see you tonight", kTue, {"tonight=2023-05-09"}},
                    Case{"Tomorrow morning works", kTue, {"Tomorrow morning=2023-05-10"}},
                    Case{"we spoke last night", kTue, {"last night=2023-05-08"}},
                    Case{"I ran this morning", kTue, {"this morning=2023-05-09"}},
                    Case{"the day before yesterday", kTue, {"the day before yesterday=2023-05-07"}},
                    Case{"the day after tomorrow", kTue, {"the day after tomorrow=2023-05-11"}},
                    Case{"YESTERDAY", kTue, {"YESTERDAY=2023-05-08"}},
                    Case{"It was recently fixed", kTue, {}}));

INSTANTIATE_TEST_SUITE_P(
    Weekdays, ResolveTimesTable,
    testing::Values(Case{"last Friday", kTue, {"last Friday=2023-05-05"}},
                    Case{"next Friday", kTue, {"next Friday=2023-05-12"}},
                    Case{"this Friday", kTue, {"this Friday=2023-05-12"}},
                    Case{"last Tuesday", kTue, {"last Tuesday=2023-05-02"}},
                    Case{"next Tuesday", kTue, {"next Tuesday=2023-05-16"}},
                    Case{"last monday", kTue, {"last monday=2023-05-08"}},
                    Case{"this Monday", kTue, {"this Monday=2023-05-08"}},
                    Case{"last Wednesday", kTue, {"last Wednesday=2023-05-03"}},
                    Case{"last Thursday", kTue, {"last Thursday=2023-05-04"}},
                    Case{"last Saturday", kTue, {"last Saturday=2023-05-06"}},
                    Case{"LAST SUNDAY", kTue, {"LAST SUNDAY=2023-05-07"}},
                    Case{"this past Sunday", kTue, {"this past Sunday=2023-05-07"}},
                    Case{"last Monday", kMon, {"last Monday=2023-05-01"}},
                    Case{"next Monday", kMon, {"next Monday=2023-05-15"}},
                    Case{"next Monday", kSun, {"next Monday=2023-05-15"}},
                    Case{"this Sunday", kSun, {"this Sunday=2023-05-14"}},
                    Case{"Sunday school", kTue, {}}));

INSTANTIATE_TEST_SUITE_P(
    Periods, ResolveTimesTable,
    testing::Values(Case{"last week", kTue, {"last week=week of 2023-05-01"}},
                    Case{"this week", kTue, {"this week=week of 2023-05-08"}},
                    Case{"next week", kTue, {"next week=week of 2023-05-15"}},
                    Case{"last week", kMon, {"last week=week of 2023-05-01"}},
                    Case{"this week", kSun, {"this week=week of 2023-05-08"}},
                    Case{"last weekend", kTue, {"last weekend=2023-05-06 to 2023-05-07"}},
                    Case{"this weekend", kTue, {"this weekend=2023-05-13 to 2023-05-14"}},
                    Case{"next weekend", kTue, {"next weekend=2023-05-20 to 2023-05-21"}},
                    Case{"this past weekend", kTue, {"this past weekend=2023-05-06 to 2023-05-07"}},
                    Case{"last month", kTue, {"last month=2023-04"}},
                    Case{"this month", kTue, {"this month=2023-05"}},
                    Case{"next month", kTue, {"next month=2023-06"}},
                    Case{"last year", kTue, {"last year=2022"}},
                    Case{"next year", kTue, {"next year=2024"}},
                    Case{"earlier this week", kTue, {"earlier this week=2023-05-08 to 2023-05-09"}},
                    Case{"later this month", kTue, {"later this month=2023-05-09 to 2023-05-31"}}));

INSTANTIATE_TEST_SUITE_P(
    Counts, ResolveTimesTable,
    testing::Values(Case{"3 days ago", kTue, {"3 days ago=2023-05-06"}},
                    Case{"two weeks ago", kTue, {"two weeks ago=week of 2023-04-24"}},
                    Case{"a couple of days ago", kTue, {"a couple of days ago=2023-05-07"}},
                    Case{"a few days ago", kTue, {"a few days ago=2023-05-06"}},
                    Case{"few weeks ago", kTue, {"few weeks ago=week of 2023-04-17"}},
                    Case{"2 months ago", kTue, {"2 months ago=2023-03"}},
                    Case{"five years ago", kTue, {"five years ago=2018"}},
                    Case{"twelve months ago", kTue, {"twelve months ago=2022-05"}},
                    Case{"a week ago", kTue, {"a week ago=week of 2023-05-01"}},
                    Case{"in 3 days", kTue, {"in 3 days=2023-05-12"}},
                    Case{"in two weeks", kTue, {"in two weeks=week of 2023-05-22"}},
                    Case{"in a month", kTue, {"in a month=2023-06"}},
                    Case{"a second ago", kTue, {}}, Case{"5 minutes ago", kTue, {}},
                    Case{"we haven't talked in a few days", kTue, {}}));

INSTANTIATE_TEST_SUITE_P(
    Calendar, ResolveTimesTable,
    testing::Values(Case{"in May 2023", kTue, {"May 2023=2023-05"}},
                    Case{"last May", kTue, {"last May=2022-05"}},
                    Case{"next May", kTue, {"next May=2024-05"}},
                    Case{"last March", kTue, {"last March=2023-03"}},
                    Case{"on 3 June", kTue, {"3 June=2023-06-03"}},
                    Case{"June 3rd, 2023", kTue, {"June 3rd, 2023=2023-06-03"}},
                    Case{"the 3rd of June 2022", kTue, {"3rd of June 2022=2022-06-03"}},
                    Case{"on Jun. 5", kTue, {"Jun. 5=2023-06-05"}},
                    Case{"on 2023-05-08.", kTue, {"2023-05-08=2023-05-08"}},
                    Case{"back in 2022", kTue, {"2022=2022"}},
                    Case{"since March", kTue, {"March=2023-03"}},
                    Case{"on Dec 28", "2024-01-02T00:00:00Z", {"Dec 28=2023-12-28"}},
                    Case{"I may go", kTue, {}}, Case{"We march on", kTue, {}},
                    Case{"in may", kTue, {}}, Case{"June said hi", kTue, {}},
                    Case{"31 June", kTue, {}}, Case{"I scored 2023 points", kTue, {}}));

INSTANTIATE_TEST_SUITE_P(
    Boundaries, ResolveTimesTable,
    testing::Values(
        // 2024-01-01 is a Monday; 2023-12-31 a Sunday; 2024 is a leap year.
        Case{"yesterday last week last month last year",
             "2024-01-01T00:00:00Z",
             {"yesterday=2023-12-31", "last week=week of 2023-12-25", "last month=2023-12",
              "last year=2023"}},
        Case{"tomorrow, next month and next year",
             "2023-12-31T23:59:59Z",
             {"tomorrow=2024-01-01", "next month=2024-01", "next year=2024"}},
        Case{"next week", "2023-12-31T12:00:00Z", {"next week=week of 2024-01-01"}},
        Case{"yesterday or tomorrow",
             "2024-02-29T12:00:00Z",
             {"yesterday=2024-02-28", "tomorrow=2024-03-01"}},
        Case{"last month and next month",
             "2024-02-29T12:00:00Z",
             {"last month=2024-01", "next month=2024-03"}},
        Case{"a year ago on 29 February",
             "2024-02-29T12:00:00Z",
             {"a year ago=2023", "29 February=2024-02-29"}},
        // No such day: the month is still a fair reading of the wording.
        Case{"29 February 2023", "2024-02-29T12:00:00Z", {"February 2023=2023-02"}},
        Case{"2 months ago", "2023-01-15T00:00:00Z", {"2 months ago=2022-11"}},
        Case{"last December", "2023-01-15T00:00:00Z", {"last December=2022-12"}}));

TEST(ResolveTimes, KeepsByteOffsetsAndWording) {
  const std::string text = "Caf\xC3\xA9 \xF0\x9F\x98\x8A I went camping Last Friday!";
  const std::vector<TimeMention> m = ResolveTimes(text, At(kTue));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(text.substr(m[0].begin, m[0].end - m[0].begin), "Last Friday");
  EXPECT_EQ(m[0].text, "Last Friday");
  EXPECT_EQ(m[0].start, At("2023-05-05T00:00:00Z"));
  EXPECT_EQ(m[0].end_time, At("2023-05-06T00:00:00Z"));
}

TEST(ResolveTimes, FindsSeveralInOrderAndDoesNotJoinAcrossSentences) {
  EXPECT_EQ(Resolve("Yesterday I ran; next week I rest.", kTue),
            (std::vector<std::string>{"Yesterday=2023-05-08", "next week=week of 2023-05-15"}));
  EXPECT_TRUE(Resolve("That was the last. Friday is free.", kTue).empty());
}

TEST(ResolveTimes, ReferenceBefore1970UsesFloorDays) {
  EXPECT_EQ(Resolve("yesterday", "1969-12-31T12:00:00Z"),
            std::vector<std::string>{"yesterday=1969-12-30"});
}

TEST(CalendarHelpers, CivilDaysRoundTripAndWeekdays) {
  for (int64_t d = -800; d < 20000; d += 37) {
    const internal::CivilDate c = internal::CivilFromDays(d);
    EXPECT_EQ(util::DaysFromCivil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(internal::Weekday(0), 3);  // 1970-01-01, a Thursday
  EXPECT_EQ(internal::Weekday(util::DaysFromCivil(2023, 5, 8)), 0);
  EXPECT_EQ(internal::DaysInMonth(2024, 2), 29u);
  EXPECT_EQ(internal::DaysInMonth(1900, 2), 28u);
  EXPECT_EQ(internal::DaysInMonth(2000, 2), 29u);
}

// ---- event-anchored expressions ------------------------------------------------------

// "2 day before [wedding]", "the week after [graduation]", "since [move]",
// "1 Sunday before @[October 25, 2022]" (a time anchor).
std::string Describe(const AnchoredExpression& e) {
  static constexpr std::array<const char*, 7> kWeekdays = {
      "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  std::string out;
  if (e.open) {
    out = e.since ? "since" : e.after ? "after" : "before";
  } else {
    const char* unit = "?";
    switch (e.unit) {
      case AnchorUnit::kDay:
        unit = "day";
        break;
      case AnchorUnit::kWeek:
        unit = "week";
        break;
      case AnchorUnit::kWeekend:
        unit = "weekend";
        break;
      case AnchorUnit::kWeekday:
        unit = kWeekdays[static_cast<size_t>(e.weekday)];
        break;
      case AnchorUnit::kMonth:
        unit = "month";
        break;
      case AnchorUnit::kYear:
        unit = "year";
        break;
    }
    out = (e.whole ? std::string("the") : std::to_string(e.count)) + " " + unit + " " +
          (e.after ? "after" : "before");
  }
  return out + " " + (e.anchor_is_time ? "@" : "") + "[" + e.anchor + "]";
}

std::vector<std::string> Anchored(std::string_view text) {
  std::vector<std::string> out;
  for (const AnchoredExpression& e : FindAnchoredExpressions(text)) out.push_back(Describe(e));
  return out;
}

struct AnchorCase {
  const char* text;
  std::vector<std::string> expected;
};

void PrintTo(const AnchorCase& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class AnchoredTable : public testing::TestWithParam<AnchorCase> {};

TEST_P(AnchoredTable, Finds) { EXPECT_EQ(Anchored(GetParam().text), GetParam().expected); }

INSTANTIATE_TEST_SUITE_P(
    Points, AnchoredTable,
    testing::Values(
        AnchorCase{"what did we do two days before the wedding?", {"2 day before [wedding]"}},
        AnchorCase{"the week after her graduation", {"the week after [graduation]"}},
        AnchorCase{"a day after the concert", {"1 day after [concert]"}},
        AnchorCase{"3 weeks before my trip to Paris", {"3 week before [trip to Paris]"}},
        AnchorCase{"the day after the party", {"the day after [party]"}},
        AnchorCase{"a couple of days after Caroline's birthday party",
                   {"2 day after [birthday party]"}},
        AnchorCase{"A few months before the move", {"3 month before [move]"}},
        AnchorCase{"two years after our road-trip", {"2 year after [road-trip]"}},
        AnchorCase{"the night before the race", {"the day before [race]"}},
        AnchorCase{"the weekend after his sister's wedding", {"the weekend after [wedding]"}},
        AnchorCase{"the Sunday before the launch", {"the Sunday before [launch]"}},
        AnchorCase{"an hour before the show", {"before [show]"}}));

INSTANTIATE_TEST_SUITE_P(
    Open, AnchoredTable,
    testing::Values(
        AnchorCase{"since the move", {"since [move]"}},
        AnchorCase{"What did I buy before the wedding?", {"before [wedding]"}},
        AnchorCase{"How did Melanie feel after the race?", {"after [race]"}},
        AnchorCase{"When did Melanie go on a hike after the roadtrip?", {"after [roadtrip]"}},
        AnchorCase{"What did Caroline do after the charity race and why?",
                   {"after [charity race]"}},
        AnchorCase{"ever since her accident, when did she drive?", {"since [accident]"}},
        AnchorCase{"prior to the interview", {"before [interview]"}},
        AnchorCase{"until the trip", {"before [trip]"}},
        AnchorCase{"after receiving advice at the networking event",
                   {"after [receiving advice at the networking event]"}},
        AnchorCase{"right after the wedding in June", {"after [wedding]"}},
        AnchorCase{"before the trip to the", {"before [trip]"}}));

INSTANTIATE_TEST_SUITE_P(
    TimeAnchors, AnchoredTable,
    testing::Values(AnchorCase{"the puppy she got two weeks before August 11, 2023?",
                               {"2 week before @[August 11, 2023]"}},
                    AnchorCase{"What did John do the week before August 3, 2023?",
                               {"the week before @[August 3, 2023]"}},
                    AnchorCase{"What did Maria do last weekend before April 10, 2023?",
                               {"the weekend before @[April 10, 2023]"}},
                    AnchorCase{"on the Sunday before October 25, 2022",
                               {"the Sunday before @[October 25, 2022]"}},
                    AnchorCase{"Where was Tim in the week before 16 November 2023?",
                               {"the week before @[16 November 2023]"}},
                    AnchorCase{"since May", {"since @[May]"}},
                    AnchorCase{"two days after the 3rd of June", {"2 day after @[3rd of June]"}}));

INSTANTIATE_TEST_SUITE_P(
    NotAnchors, AnchoredTable,
    testing::Values(AnchorCase{"I left before noon", {}}, AnchorCase{"after all, it worked", {}},
                    AnchorCase{"after that we went home", {}},
                    AnchorCase{"before I left for the airport", {}},
                    AnchorCase{"the day before yesterday", {}},
                    AnchorCase{"the day after tomorrow", {}}, AnchorCase{"since I was tired", {}},
                    AnchorCase{"after work", {}}, AnchorCase{"after a while", {}},
                    AnchorCase{"before, the list", {}},
                    AnchorCase{"I had never seen it before.", {}},
                    AnchorCase{"after years of practice", {}}, AnchorCase{"since when?", {}},
                    AnchorCase{"afterwards and beforehand", {}}, AnchorCase{"before the", {}}));

TEST(FindAnchoredExpressions, OffsetsCoverTheWordingAndExpressionsComeInOrder) {
  const std::string text = "Two days before the wedding, and since the move?";
  const auto found = FindAnchoredExpressions(text);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].text, "Two days before the wedding");
  EXPECT_EQ(text.substr(found[0].begin, found[0].end - found[0].begin), found[0].text);
  EXPECT_EQ(found[0].count, 2);
  EXPECT_FALSE(found[0].open);
  EXPECT_FALSE(found[0].after);
  EXPECT_EQ(found[1].text, "since the move");
  EXPECT_TRUE(found[1].open);
  EXPECT_TRUE(found[1].since);
  EXPECT_TRUE(found[1].after);
  EXPECT_EQ(found[1].anchor, "move");
}

TEST(FindAnchoredExpressions, LeavesResolveTimesUnchanged) {
  // The anchored wordings do not change what ResolveTimes finds.
  EXPECT_TRUE(Resolve("two days before the wedding", kTue).empty());
  EXPECT_EQ(Resolve("the week before August 3, 2023", kTue),
            std::vector<std::string>{"August 3, 2023=2023-08-03"});
}

}  // namespace
}  // namespace mnemo::write
