#include "write/extract_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/time_util.h"

namespace mnemo::write {
namespace {

using Strings = std::vector<std::string>;

// ---- SplitSentences ----

TEST(SplitSentences, SplitsOnTerminatorsAndNewlines) {
  EXPECT_EQ(SplitSentences("Hi there! How are you? I'm fine.\nNew line here"),
            (Strings{"Hi there!", "How are you?", "I'm fine.", "New line here"}));
}

TEST(SplitSentences, KeepsAbbreviationsDecimalsAndInitials) {
  EXPECT_EQ(SplitSentences("Mr. Smith met Dr. Jones at 3.5 km. They talked."),
            (Strings{"Mr. Smith met Dr. Jones at 3.5 km.", "They talked."}));
  EXPECT_EQ(SplitSentences("I like fruit, e.g. apples, i.e. red ones. Done."),
            (Strings{"I like fruit, e.g. apples, i.e. red ones.", "Done."}));
  EXPECT_EQ(SplitSentences("I read J. K. Rowling. It was fun."),
            (Strings{"I read J. K. Rowling.", "It was fun."}));
  EXPECT_EQ(SplitSentences("See example.com now. Ok"), (Strings{"See example.com now.", "Ok"}));
}

TEST(SplitSentences, EtcEndsOnlyBeforeACapital) {
  EXPECT_EQ(SplitSentences("pens, paper, etc. and more. Then etc. Next"),
            (Strings{"pens, paper, etc. and more.", "Then etc.", "Next"}));
}

TEST(SplitSentences, EllipsesContinueUnlessACapitalFollows) {
  EXPECT_EQ(SplitSentences("I was thinking... maybe not. Well... Okay then"),
            (Strings{"I was thinking... maybe not.", "Well...", "Okay then"}));
  EXPECT_EQ(SplitSentences("Hmm\xE2\x80\xA6 Sure"), (Strings{"Hmm\xE2\x80\xA6", "Sure"}));
}

TEST(SplitSentences, QuotesAfterTerminalPunctuationStayWithTheSentence) {
  EXPECT_EQ(SplitSentences("He said \"stop.\" Then he left."),
            (Strings{"He said \"stop.\"", "Then he left."}));
  EXPECT_EQ(SplitSentences("\"Really?\" she asked."), (Strings{"\"Really?\" she asked."}));
}

TEST(SplitSentences, EmojiAndNonAscii) {
  EXPECT_EQ(SplitSentences("That's great! \xF0\x9F\x98\x8A See you"),
            (Strings{"That's great! \xF0\x9F\x98\x8A", "See you"}));
  EXPECT_EQ(SplitSentences("Thanks \xF0\x9F\x98\x8A See you"),
            (Strings{"Thanks \xF0\x9F\x98\x8A", "See you"}));
  EXPECT_EQ(SplitSentences("J'ai visit\xC3\xA9 Z\xC3\xBCrich. \xC3\x89t\xC3\xA9 fini."),
            (Strings{"J'ai visit\xC3\xA9 Z\xC3\xBCrich.", "\xC3\x89t\xC3\xA9 fini."}));
}

TEST(SplitSentences, EmptyAndBlank) {
  EXPECT_TRUE(SplitSentences("").empty());
  EXPECT_TRUE(SplitSentences("  \n\n  ").empty());
  EXPECT_EQ(SplitSentences("no terminator"), Strings{"no terminator"});
}

// ---- ExtractEntities / ExtractKeyphrases ----

TEST(ExtractEntities, CapitalisedRunsAwayFromSentenceStarts) {
  EXPECT_EQ(ExtractEntities("Hey Mel! I visited New York City with Caroline's mom in May."),
            (Strings{"Mel", "New York City", "Caroline"}));
}

TEST(ExtractEntities, SentenceInitialWordsNeedEvidence) {
  // "Yesterday" and "Painting" start sentences and are not names; "Boston" is seen inside.
  EXPECT_EQ(ExtractEntities("Painting is fun. Boston was cold. I love Boston."),
            (Strings{"Boston"}));
  EXPECT_EQ(ExtractEntities("LGBTQ groups help. Mr. Smith agreed."),
            (Strings{"LGBTQ", "Mr. Smith"}));
}

TEST(ExtractEntities, DeduplicatesAndSkipsPronounsAndCalendarWords) {
  EXPECT_EQ(ExtractEntities("I met Anna on Friday and I think Anna liked it. OK, I'm off."),
            (Strings{"Anna"}));
}

TEST(ExtractKeyphrases, ContentRunsLowerCasedAndCapped) {
  const Strings k =
      ExtractKeyphrases("I went to a LGBTQ support group yesterday and it was so powerful.", 3);
  ASSERT_FALSE(k.empty());
  EXPECT_EQ(k.front(), "lgbtq support group");
  EXPECT_LE(k.size(), 3u);
  EXPECT_TRUE(ExtractKeyphrases("I am so and it was.").empty());
}

// ---- ExtractFromTurn ----

Turn MakeTurn(std::string text, std::string speaker = "Caroline",
              const char* when = "2023-05-09T10:00:00Z") {
  Turn t;
  t.id = 42;
  t.speaker = std::move(speaker);
  t.role = "user";
  t.text = std::move(text);
  t.time = *util::ParseIso8601(when);
  return t;
}

// "kind|slot|value|polarity|text" for each candidate.
Strings Summaries(const Turn& t) {
  Strings out;
  for (const Candidate& c : ExtractFromTurn(t)) {
    out.push_back(std::to_string(static_cast<int>(c.kind)) + "|" + c.slot + "|" + c.value + "|" +
                  std::to_string(c.polarity) + "|" + c.text);
  }
  return out;
}
std::string One(std::string text, std::string speaker = "Caroline") {
  const Strings s = Summaries(MakeTurn(std::move(text), std::move(speaker)));
  return s.size() == 1 ? s[0] : "<" + std::to_string(s.size()) + " candidates>";
}

struct RuleCase {
  const char* text;
  const char* expected;  // kind|slot|value|polarity|text, or "<0 candidates>"
};
void PrintTo(const RuleCase& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class RuleTable : public testing::TestWithParam<RuleCase> {};
TEST_P(RuleTable, Extracts) { EXPECT_EQ(One(GetParam().text), GetParam().expected); }

// Kind: 1 fact, 2 preference, 3 procedure.
INSTANTIATE_TEST_SUITE_P(
    Preferences, RuleTable,
    testing::Values(
        RuleCase{"I love hiking.", "2|likes:hiking||1|Caroline loves hiking"},
        RuleCase{"I really enjoy hiking with my dog!",
                 "2|likes:hiking||1|Caroline really enjoys hiking with Caroline's dog"},
        RuleCase{"I adore the ocean", "2|likes:ocean||1|Caroline adores the ocean"},
        RuleCase{"I hate running.", "2|likes:running||-1|Caroline hates running"},
        RuleCase{"I can't stand loud music",
                 "2|likes:loud music||-1|Caroline can't stand loud music"},
        RuleCase{"I dislike onions", "2|likes:onions||-1|Caroline dislikes onions"},
        RuleCase{"I don't like sushi.", "2|likes:sushi||-1|Caroline doesn't like sushi"},
        RuleCase{"I prefer tea over coffee", "2|likes:tea||1|Caroline prefers tea over coffee"},
        RuleCase{"I love to paint", "2|likes:paint||1|Caroline loves to paint"},
        RuleCase{"I'm a big fan of jazz", "2|likes:jazz||1|Caroline is a big fan of jazz"},
        RuleCase{"I'm not into hiking", "2|likes:hiking||-1|Caroline is not into hiking"},
        RuleCase{"My favourite color is blue.",
                 "1|favorite:color|blue|1|Caroline's favourite color is blue"},
        RuleCase{"I love sci-fi movies so much",
                 "2|likes:sci fi movies||1|Caroline loves sci-fi movies"}));

INSTANTIATE_TEST_SUITE_P(
    Profile, RuleTable,
    testing::Values(
        RuleCase{"I'm allergic to peanuts.",
                 "1|allergy:peanuts||1|Caroline is allergic to peanuts"},
        RuleCase{"I am allergic to the cats next door",
                 "1|allergy:cats||1|Caroline is allergic to the cats next door"},
        RuleCase{"My name is Caroline Smith.",
                 "1|name|caroline smith|1|Caroline's name is Caroline Smith"},
        RuleCase{"My wife's name is Ana", "1|family:ana|wife|1|Caroline's wife is Ana"},
        RuleCase{"My dog is named Max", "1|pet:max|dog|1|Caroline has a dog named Max"},
        RuleCase{"My job is a nurse", "1|job|nurse|1|Caroline's job is a nurse"},
        RuleCase{"I moved to Boston last year.", "<2 candidates>"},
        RuleCase{"I live in New York", "1|home_city|new york|1|Caroline lives in New York"},
        RuleCase{"I'm from Sweden", "1|hometown|sweden|1|Caroline is from Sweden"},
        RuleCase{"I'm originally from the UK", "1|hometown|uk|1|Caroline is from the UK"},
        RuleCase{"I grew up in Ohio", "1|hometown|ohio|1|Caroline grew up in Ohio"},
        RuleCase{"I work as a software engineer at Google",
                 "1|job|software engineer|1|Caroline works as a software engineer at Google"},
        RuleCase{"I work at Acme Corp", "1|employer|acme corp|1|Caroline works at Acme Corp"},
        RuleCase{"I'm a teacher.", "1|job|teacher|1|Caroline is a teacher"},
        RuleCase{"I'm a high school teacher",
                 "1|job|high school teacher|1|Caroline is a high school teacher"},
        RuleCase{"I'm 32 years old", "1|age|32|1|Caroline is 32 years old"},
        RuleCase{"I'm vegetarian", "1|diet|vegetarian|1|Caroline is vegetarian"},
        RuleCase{"I am a vegan", "1|diet|vegan|1|Caroline is vegan"},
        RuleCase{"I no longer eat meat", "1|eats:meat||-1|Caroline no longer eats meat"},
        RuleCase{"I don't eat pork", "1|eats:pork||-1|Caroline doesn't eat pork"},
        RuleCase{"I stopped drinking.", "1|drinks:alcohol||-1|Caroline stopped drinking"}));

INSTANTIATE_TEST_SUITE_P(
    Procedures, RuleTable,
    testing::Values(
        RuleCase{"I always stretch before a run", "3|||1|Caroline always stretches before a run"},
        RuleCase{"I never skip breakfast", "3|||1|Caroline never skips breakfast"},
        RuleCase{"Always back up your files first!",
                 "3|||1|Caroline's rule: always back up your files first"},
        RuleCase{"To make bread, first mix the flour, then knead it.",
                 "3|||1|Caroline's method: to make bread, first mix the flour, then knead it"}));

INSTANTIATE_TEST_SUITE_P(
    Negatives, RuleTable,
    testing::Values(RuleCase{"Do you like sushi?", "<0 candidates>"},
                    RuleCase{"You love hiking.", "<0 candidates>"},
                    RuleCase{"If I were rich I'd love to travel", "<0 candidates>"},
                    RuleCase{"I would love to visit Paris", "<0 candidates>"},
                    RuleCase{"I'd like a coffee", "<0 candidates>"},
                    RuleCase{"I love it!", "<0 candidates>"},
                    RuleCase{"I love that you did this", "<0 candidates>"},
                    RuleCase{"I love your painting", "<0 candidates>"},
                    RuleCase{"I loved the show", "<0 candidates>"},
                    RuleCase{"I hope I like it there", "<0 candidates>"},
                    RuleCase{"Something I love is hard to find", "<0 candidates>"},
                    RuleCase{"I moved to a new desk", "<0 candidates>"},
                    RuleCase{"I'm a big believer in rest", "<0 candidates>"},
                    RuleCase{"I may go to the gym", "<0 candidates>"},
                    RuleCase{"I always thought so", "<0 candidates>"},
                    RuleCase{"Always happy to help!", "<0 candidates>"},
                    RuleCase{"My day is going well", "<0 candidates>"}));

TEST(ExtractFromTurn, DatedEventKeepsWordingAndAppendsTheDate) {
  const std::vector<Candidate> c =
      ExtractFromTurn(MakeTurn("I went camping last Friday!", "Melanie"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, Kind::kFact);
  EXPECT_EQ(c[0].text, "Melanie went camping last Friday (2023-05-05)");
  EXPECT_EQ(c[0].time_text, "last Friday");
  EXPECT_EQ(c[0].event_time, *util::ParseIso8601("2023-05-05T00:00:00Z"));
  EXPECT_EQ(c[0].subject, "melanie");
  EXPECT_EQ(c[0].sources, std::vector<MemoryId>{42});
  EXPECT_GE(c[0].confidence, 0.6);
  EXPECT_LE(c[0].confidence, 0.8);
  EXPECT_EQ(c[0].entities.front(), "Melanie");
}

TEST(ExtractFromTurn, DatedEventsForPluralAndThirdPersonNameTheSpeaker) {
  EXPECT_EQ(Summaries(MakeTurn("We're going camping next month.", "Melanie")),
            Strings{"1|||1|Melanie said: We're going camping next month (2023-06)"});
  EXPECT_EQ(Summaries(MakeTurn("Wow, my sister got married two weeks ago.", "Melanie")),
            Strings{"1|||1|Melanie's sister got married two weeks ago (week of 2023-04-24)"});
  EXPECT_TRUE(Summaries(MakeTurn("See you tomorrow!", "Melanie")).empty());
  EXPECT_TRUE(Summaries(MakeTurn("Did you go yesterday?", "Melanie")).empty());
}

TEST(ExtractFromTurn, MovedWithATimeGivesAFactAndAnEvent) {
  const std::vector<Candidate> c = ExtractFromTurn(MakeTurn("I moved to Boston last year."));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].slot, "home_city");
  EXPECT_EQ(c[0].value, "boston");
  EXPECT_EQ(c[0].text, "Caroline moved to Boston");
  EXPECT_EQ(c[1].text, "Caroline moved to Boston last year (2022)");
  EXPECT_EQ(c[1].time_text, "last year");
}

TEST(ExtractFromTurn, SeveralRulesInOneTurn) {
  EXPECT_EQ(Summaries(MakeTurn("I love hiking and I hate running. Do you like it?")),
            (Strings{"2|likes:hiking||1|Caroline loves hiking",
                     "2|likes:running||-1|Caroline hates running"}));
}

TEST(ExtractFromTurn, WithoutASpeakerTheSubjectIsTheUser) {
  Turn t = MakeTurn("I love sushi. I went out yesterday.", "");
  const std::vector<Candidate> c = ExtractFromTurn(t);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].subject, "user");
  EXPECT_EQ(c[0].text, "The user loves sushi");
  EXPECT_EQ(c[1].text, "The user went out yesterday (2023-05-08)");
}

TEST(ExtractFromTurn, AssistantTurnsAndTurnsWithoutTimeAreHandled) {
  Turn assistant = MakeTurn("I love helping people.", "");
  assistant.role = "assistant";
  EXPECT_TRUE(ExtractFromTurn(assistant).empty());
  Turn untimed = MakeTurn("I love sushi. I went out yesterday.");
  untimed.time.reset();
  EXPECT_EQ(Summaries(untimed), Strings{"2|likes:sushi||1|Caroline loves sushi"});
}

TEST(ExtractFromTurn, FillsKeyphrasesAndEntities) {
  const std::vector<Candidate> c =
      ExtractFromTurn(MakeTurn("I love hiking in Yosemite with Anna."));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].entities, (Strings{"Caroline", "Yosemite", "Anna"}));
  EXPECT_FALSE(c[0].keyphrases.empty());
  EXPECT_EQ(c[0].slot, "likes:hiking");
}

TEST(ExtractFromTurn, EmptyAndOddInput) {
  EXPECT_TRUE(ExtractFromTurn(MakeTurn("")).empty());
  EXPECT_TRUE(ExtractFromTurn(MakeTurn("\xF0\x9F\x98\x8A\xF0\x9F\x98\x8A !!! ...")).empty());
  EXPECT_TRUE(ExtractFromTurn(MakeTurn("I")).empty());
  EXPECT_TRUE(ExtractFromTurn(MakeTurn("my my my is is")).empty());
}

}  // namespace
}  // namespace mnemo::write
