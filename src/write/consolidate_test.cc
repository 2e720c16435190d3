#include "write/consolidate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "util/time_util.h"

namespace mnemo::write {
namespace {

TimeMs Day(int y, unsigned m, unsigned d) { return util::DaysFromCivil(y, m, d) * 86'400'000; }

Candidate Fact(std::string text, std::string subject = "caroline", std::string slot = "",
               std::string value = "", int polarity = 1) {
  Candidate c;
  c.text = std::move(text);
  c.subject = std::move(subject);
  c.slot = std::move(slot);
  c.value = std::move(value);
  c.polarity = polarity;
  c.sources = {1};
  return c;
}

Neighbour Known(MemoryId id, std::string text, TimeMs time, std::string slot = "",
                std::string value = "", int polarity = 1, std::string subject = "caroline") {
  Neighbour n;
  n.id = id;
  n.text = std::move(text);
  n.subject = std::move(subject);
  n.slot = std::move(slot);
  n.value = std::move(value);
  n.polarity = polarity;
  n.time = time;
  return n;
}

// --- MinHash ---------------------------------------------------------------------------

TEST(MinHashTest, HasFixedSizeAndIsDeterministic) {
  const MinHash a = ComputeMinHash("Caroline moved to Boston in May 2023 with her partner");
  const MinHash b = ComputeMinHash("Caroline moved to Boston in May 2023 with her partner");
  ASSERT_EQ(a.size(), kMinHashSize);
  EXPECT_EQ(a, b);
  // A golden value: the hashes are spelled out (FNV-1a + SplitMix64), not std::hash, so
  // stored signatures stay comparable across runs, compilers and platforms.
  EXPECT_EQ(ComputeMinHash("hello world")[0], 0x301aa217270c9d8eULL);
}

TEST(MinHashTest, IgnoresCaseAndPunctuation) {
  EXPECT_EQ(ComputeMinHash("Caroline moved to Boston!"),
            ComputeMinHash("caroline, MOVED to boston..."));
  EXPECT_NE(ComputeMinHash("Caroline moved to Boston"), ComputeMinHash("Boston moved to Caroline"));
}

TEST(MinHashTest, NearDuplicatesScoreHighUnrelatedLow) {
  const MinHash a = ComputeMinHash(
      "Melanie painted a sunrise over the lake with her two kids during the summer holidays");
  const MinHash b = ComputeMinHash(
      "Melanie painted a sunrise over the lake with her two kids during the summer vacation");
  const MinHash c =
      ComputeMinHash("The quarterly budget review meeting was moved to Thursday afternoon");
  EXPECT_GE(EstimateJaccard(a, b), 0.7);
  EXPECT_LE(EstimateJaccard(a, c), 0.1);
  EXPECT_DOUBLE_EQ(EstimateJaccard(a, a), 1.0);
}

TEST(MinHashTest, ShortTextsUseWordsAndEmptyTextMatchesNothing) {
  const MinHash one = ComputeMinHash("sushi");
  EXPECT_TRUE(std::any_of(one.begin(), one.end(),
                          [](uint64_t v) { return v != std::numeric_limits<uint64_t>::max(); }));
  EXPECT_GT(EstimateJaccard(ComputeMinHash("likes sushi"), ComputeMinHash("sushi likes")), 0.2);

  const MinHash empty = ComputeMinHash(" ?! ");
  EXPECT_TRUE(std::all_of(empty.begin(), empty.end(),
                          [](uint64_t v) { return v == std::numeric_limits<uint64_t>::max(); }));
  EXPECT_EQ(EstimateJaccard(empty, empty), 0);
  EXPECT_EQ(EstimateJaccard(one, MinHash{1, 2, 3}), 0);  // malformed signature
}

// --- DecideByRules ----------------------------------------------------------------------

TEST(DecideTest, UnrelatedCandidateIsAdded) {
  const Outcome o = DecideByRules(Fact("Caroline adopted a dog named Rex"), Day(2023, 5, 1),
                                  {Known(7, "Caroline works as a counselor", Day(2023, 1, 1))});
  EXPECT_EQ(o.decision, Decision::kAdd);
  EXPECT_EQ(o.target, 0);
  EXPECT_NE(o.reason.find("new"), std::string::npos);
}

TEST(DecideTest, SameWordsIsNoop) {
  const Outcome o = DecideByRules(Fact("Caroline adopted a dog named Rex."), Day(2023, 5, 1),
                                  {Known(3, "Caroline works as a counselor", Day(2023, 1, 1)),
                                   Known(5, "caroline adopted a DOG named rex", Day(2023, 1, 1))});
  EXPECT_EQ(o.decision, Decision::kNoop);
  EXPECT_EQ(o.target, 5);
  EXPECT_EQ(o.reason, "same text as #5");
}

TEST(DecideTest, SameSlotSameValueIsNoop) {
  const Outcome o = DecideByRules(
      Fact("Caroline lives in Boston", "caroline", "home_city", "Boston"), Day(2023, 5, 1),
      {Known(4, "Caroline's home is in Boston", Day(2023, 1, 1), "home_city", "boston")});
  EXPECT_EQ(o.decision, Decision::kNoop);
  EXPECT_EQ(o.target, 4);
  EXPECT_NE(o.reason.find("slot home_city of caroline: already known as \"boston\" (#4)"),
            std::string::npos)
      << o.reason;
}

TEST(DecideTest, SameSlotSameValueWithMoreDetailIsMerge) {
  const Candidate c = Fact("Caroline lives in Boston near the harbour with her partner", "caroline",
                           "home_city", "boston");
  const Outcome o =
      DecideByRules(c, Day(2023, 5, 1),
                    {Known(4, "Caroline lives in Boston", Day(2023, 1, 1), "home_city", "boston")});
  EXPECT_EQ(o.decision, Decision::kMerge);
  EXPECT_EQ(o.target, 4);
  EXPECT_EQ(o.merged_text, c.text);
  EXPECT_NE(o.reason.find("more detail"), std::string::npos);
}

TEST(DecideTest, NewerValueSupersedesWithOldAndNewValueInReason) {
  const Outcome o = DecideByRules(
      Fact("Caroline moved to Paris", "caroline", "home_city", "paris"), Day(2023, 6, 1),
      {Known(4, "Caroline lives in Boston", Day(2023, 1, 2), "home_city", "boston")});
  EXPECT_EQ(o.decision, Decision::kSupersede);
  EXPECT_EQ(o.target, 4);
  EXPECT_EQ(o.reason,
            "slot home_city of caroline: \"boston\" (#4, 2023-01-02) -> \"paris\" (2023-06-01)");
}

TEST(DecideTest, PolarityFlipSupersedes) {
  const Outcome o = DecideByRules(
      Fact("Caroline no longer likes sushi", "caroline", "likes:sushi", "", -1), Day(2023, 6, 1),
      {Known(9, "Caroline likes sushi", Day(2023, 1, 1), "likes:sushi", "", 1)});
  EXPECT_EQ(o.decision, Decision::kSupersede);
  EXPECT_EQ(o.target, 9);
  EXPECT_NE(o.reason.find("asserted (#9"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("-> negated"), std::string::npos) << o.reason;
}

TEST(DecideTest, EqualTimeCountsAsNewer) {
  const Outcome o =
      DecideByRules(Fact("Caroline works as a nurse", "caroline", "job", "nurse"), Day(2023, 1, 1),
                    {Known(4, "Caroline works as a teacher", Day(2023, 1, 1), "job", "teacher")});
  EXPECT_EQ(o.decision, Decision::kSupersede);
  EXPECT_EQ(o.target, 4);
}

TEST(DecideTest, SupersedesTheLatestValueNotAfterTheCandidate) {
  const std::vector<Neighbour> known = {
      Known(1, "Caroline lives in Boston", Day(2022, 1, 1), "home_city", "boston"),
      Known(2, "Caroline lives in Denver", Day(2023, 3, 1), "home_city", "denver"),
      Known(3, "Caroline lives in Austin", Day(2024, 1, 1), "home_city", "austin"),
  };
  const Outcome o = DecideByRules(Fact("Caroline moved to Paris", "caroline", "home_city", "paris"),
                                  Day(2023, 6, 1), known);
  EXPECT_EQ(o.decision, Decision::kSupersede);
  EXPECT_EQ(o.target, 2);
  // The same neighbours in another order decide the same.
  const std::vector<Neighbour> reversed(known.rbegin(), known.rend());
  EXPECT_EQ(DecideByRules(Fact("Caroline moved to Paris", "caroline", "home_city", "paris"),
                          Day(2023, 6, 1), reversed)
                .target,
            2);
}

TEST(DecideTest, OlderConflictingValueIsKeptAsHistory) {
  const Outcome o = DecideByRules(
      Fact("Caroline lived in Boston", "caroline", "home_city", "boston"), Day(2020, 1, 1),
      {Known(4, "Caroline lives in Paris", Day(2023, 6, 1), "home_city", "paris")});
  EXPECT_EQ(o.decision, Decision::kAdd);
  EXPECT_EQ(o.target, 0);
  EXPECT_NE(o.reason.find("older than \"paris\" (#4, 2023-06-01): kept as history"),
            std::string::npos)
      << o.reason;
}

TEST(DecideTest, OlderAgreeingValueIsNoop) {
  const Outcome o = DecideByRules(
      Fact("Caroline lived in Paris", "caroline", "home_city", "paris"), Day(2020, 1, 1),
      {Known(4, "Caroline lives in Paris", Day(2023, 6, 1), "home_city", "paris")});
  EXPECT_EQ(o.decision, Decision::kNoop);
  EXPECT_EQ(o.target, 4);
}

TEST(DecideTest, SlotOfAnotherSubjectIsNotAContradiction) {
  const Outcome o = DecideByRules(
      Fact("Melanie lives in Paris", "melanie", "home_city", "paris"), Day(2023, 6, 1),
      {Known(4, "Caroline lives in Boston", Day(2023, 1, 1), "home_city", "boston")});
  EXPECT_EQ(o.decision, Decision::kAdd);
  EXPECT_NE(o.reason.find("first value \"paris\" in slot home_city of melanie"), std::string::npos)
      << o.reason;
}

TEST(DecideTest, RewordedNearDuplicateIsNoop) {
  const Outcome o = DecideByRules(
      Fact("Melanie painted a sunrise over the lake with her two kids during the summer "
           "vacation",
           "melanie"),
      Day(2023, 6, 1),
      {Known(8,
             "Melanie painted a sunrise over the lake with her two kids during the summer "
             "holidays",
             Day(2023, 6, 1), "", "", 1, "melanie")});
  EXPECT_EQ(o.decision, Decision::kNoop);
  EXPECT_EQ(o.target, 8);
  EXPECT_NE(o.reason.find("near-duplicate of #8 (similarity 0.87)"), std::string::npos) << o.reason;
}

TEST(DecideTest, CandidateWithMoreWordsIsMerged) {
  const Candidate c = Fact("Caroline went to a LGBTQ support group on 2023-05-07");
  const Outcome o = DecideByRules(
      c, Day(2023, 5, 8), {Known(6, "Caroline went to a LGBTQ support group", Day(2023, 5, 8))});
  EXPECT_EQ(o.decision, Decision::kMerge);
  EXPECT_EQ(o.target, 6);
  EXPECT_EQ(o.merged_text, c.text);
  EXPECT_NE(o.reason.find("near-duplicate of #6"), std::string::npos);
}

TEST(DecideTest, CandidateWithLessIsNoop) {
  const Outcome o = DecideByRules(
      Fact("Caroline went to a LGBTQ support group"), Day(2023, 5, 8),
      {Known(6, "Caroline went to a LGBTQ support group on 2023-05-07", Day(2023, 5, 8))});
  EXPECT_EQ(o.decision, Decision::kNoop);
  EXPECT_EQ(o.target, 6);
}

TEST(DecideTest, SameWordsWithMoreEntitiesIsMerged) {
  Candidate c = Fact("Caroline met Melanie at the Boston pride parade");
  c.entities = {"Melanie", "Boston"};
  Neighbour n = Known(6, "Caroline met melanie at the boston pride parade", Day(2023, 5, 8));
  n.entities = {"Boston"};
  // Same words in the same order would be "same text": reorder to reach the entity rule.
  n.text = "At the Boston pride parade Caroline met Melanie";
  const Outcome o = DecideByRules(c, Day(2023, 5, 8), {n});
  EXPECT_EQ(o.decision, Decision::kMerge) << o.reason;
  EXPECT_EQ(o.target, 6);
}

TEST(DecideTest, NegationOrOppositePolarityIsNotADuplicate) {
  const Outcome o =
      DecideByRules(Fact("Caroline did not go to the support group"), Day(2023, 5, 8),
                    {Known(6, "Caroline did go to the support group", Day(2023, 5, 1))});
  EXPECT_EQ(o.decision, Decision::kAdd) << o.reason;

  Candidate neg = Fact("Caroline went to the support group");
  neg.polarity = -1;
  EXPECT_EQ(DecideByRules(neg, Day(2023, 5, 8),
                          {Known(6, "Caroline went to the support group", Day(2023, 5, 1))})
                .decision,
            Decision::kAdd);
}

TEST(DecideTest, ContainmentNeedsComparableLengths) {
  // The neighbour's words all appear in a much longer text: not the same statement.
  const Outcome o = DecideByRules(
      Fact("Caroline went hiking and then she spent the whole evening writing letters to "
           "her grandmother about the trip"),
      Day(2023, 5, 8), {Known(6, "Caroline went hiking", Day(2023, 5, 1))});
  EXPECT_EQ(o.decision, Decision::kAdd) << o.reason;
}

TEST(DecideTest, PrefersKnownOverImprovableAndIsOrderIndependent) {
  const Candidate c = Fact("Caroline went to a LGBTQ support group on Sunday");
  const std::vector<Neighbour> known = {
      Known(11, "Caroline went to a LGBTQ support group", Day(2023, 5, 1)),
      Known(12, "Caroline went to a LGBTQ support group on Sunday", Day(2023, 5, 1)),
      Known(13, "Caroline went to a LGBTQ support group on Sunday evening", Day(2023, 5, 1)),
  };
  const Outcome o = DecideByRules(c, Day(2023, 5, 8), known);
  EXPECT_EQ(o.decision, Decision::kNoop);
  EXPECT_EQ(o.target, 12);  // exact words beat a neighbour that says more
  const std::vector<Neighbour> reversed(known.rbegin(), known.rend());
  EXPECT_EQ(DecideByRules(c, Day(2023, 5, 8), reversed).target, 12);
}

TEST(DecideTest, DecisionNames) {
  EXPECT_EQ(DecisionName(Decision::kAdd), "add");
  EXPECT_EQ(DecisionName(Decision::kSupersede), "supersede");
  EXPECT_EQ(DecisionName(Decision::kMerge), "merge");
  EXPECT_EQ(DecisionName(Decision::kNoop), "noop");
}

}  // namespace
}  // namespace mnemo::write
