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
        RuleCase{"I work as a software engineer at Google", "<2 candidates>"},
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

// People, pets, dates, jobs, moves, diets and ages (life_patterns.cc and the wider
// rule_patterns.cc): chat as users write it, subjects dropped included.
INSTANTIATE_TEST_SUITE_P(
    Life, RuleTable,
    testing::Values(
        RuleCase{"My daughter Emma loves school",
                 "1|family:emma|daughter|1|Caroline's daughter is Emma"},
        RuleCase{"My husband is Peter", "1|family:peter|husband|1|Caroline's husband is Peter"},
        RuleCase{"Sami is my husband now", "1|family:sami|husband|1|Caroline's husband is Sami"},
        RuleCase{"Mum's name is Rosa", "1|family:rosa|mother|1|Caroline's mother is Rosa"},
        RuleCase{"My hamster Mr Nibbles escaped",
                 "1|pet:mr nibbles|hamster|1|Caroline has a hamster named Mr Nibbles"},
        RuleCase{"I've got a leopard gecko named Spike",
                 "1|pet:spike|gecko|1|Caroline has a gecko named Spike"},
        RuleCase{"Our anniversary is on June 12th", "<2 candidates>"},  // and a dated event
        RuleCase{"Birthday was the 1st of Feb", "<2 candidates>"},
        RuleCase{"I got promoted to charge nurse!",
                 "1|job|charge nurse|1|Caroline works as charge nurse"},
        RuleCase{"I quit Initech", "1|employer|initech|-1|Caroline no longer works at Initech"},
        RuleCase{"I relocated to Oslo in May", "<2 candidates>"},
        RuleCase{"Moved down to London in the end",
                 "1|home_city|london|1|Caroline moved to London"},
        RuleCase{"I've lived in Berlin for eight years now",
                 "1|home_city|berlin|1|Caroline lives in Berlin"},
        RuleCase{"born and raised in Lagos",
                 "1|hometown|lagos|1|Caroline was born and raised in Lagos"},
        RuleCase{"I'm based in Riga", "1|home_city|riga|1|Caroline lives in Riga"},
        RuleCase{"Now I'm in Oslo", "1|home_city|oslo|1|Caroline lives in Oslo"},
        RuleCase{"I'm in Oslo for a conference now", "<0 candidates>"},
        RuleCase{"I went vegetarian in January", "<2 candidates>"},
        RuleCase{"I've gone fully vegan", "1|diet|vegan|1|Caroline is vegan"},
        RuleCase{"I'm not vegetarian anymore", "1|diet|vegetarian|-1|Caroline is not vegetarian"},
        RuleCase{"I'm not vegetarian, I just don't eat pork",
                 "1|eats:pork||-1|Caroline doesn't eat pork"},
        RuleCase{"I gave up coffee", "1|drinks:coffee||-1|Caroline gave up coffee"},
        RuleCase{"I quit drinking last year", "<2 candidates>"},
        RuleCase{"I'm 39 lol", "1|age|39|1|Caroline is 39"},
        RuleCase{"I'm 39 not 29 lol", "<2 candidates>"},  // and the correction of 29
        RuleCase{"I'm 5 minutes away", "<0 candidates>"},
        RuleCase{"Hi, I'm Tomasz", "1|name|tomasz|1|Caroline's name is Tomasz"},
        RuleCase{"My name's Katarzyna", "1|name|katarzyna|1|Caroline's name is Katarzyna"},
        RuleCase{"Big fan of jazz", "2|likes:jazz||1|Caroline is big fan of jazz"},
        RuleCase{"I hate basil actually", "2|likes:basil||-1|Caroline hates basil actually"},
        RuleCase{"I'm obsessed with Korean dramas",
                 "2|likes:korean dramas||1|Caroline is obsessed with Korean dramas"},
        RuleCase{"Fontaines DC is my favorite band now",
                 "1|favorite:band|fontaines dc|1|Caroline's favorite band is Fontaines DC"},
        RuleCase{"I really like my manager", "<0 candidates>"},
        RuleCase{"I like to tease him about it", "<0 candidates>"},
        RuleCase{"My friend Tom lives in Paris", "<0 candidates>"},
        RuleCase{"If my wife Sarah were here", "<0 candidates>"},
        RuleCase{"My sister has a dog named Rex", "<0 candidates>"}));

TEST(ExtractFromTurn, SeveralFactsOfOneSentence) {
  EXPECT_EQ(Summaries(MakeTurn("My wife Sarah and I adopted a dog named Pixel.")),
            (Strings{"1|family:sarah|wife|1|Caroline's wife is Sarah",
                     "1|pet:pixel|dog|1|Caroline has a dog named Pixel"}));
  EXPECT_EQ(Summaries(MakeTurn("Last Friday I accepted an offer from Globex as a staff engineer")),
            (Strings{"1|employer|globex|1|Caroline works at Globex",
                     "1|job|staff engineer|1|Caroline works as a staff engineer",
                     "1|||1|Last Friday Caroline accepted an offer from Globex as a staff engineer "
                     "(2023-05-05)"}));
  EXPECT_EQ(Summaries(MakeTurn("we have two cats, Salt and Pepper, and a rabbit called Clover")),
            (Strings{"1|pet:salt|cat|1|Caroline has a cat named Salt",
                     "1|pet:pepper|cat|1|Caroline has a cat named Pepper",
                     "1|pet:clover|rabbit|1|Caroline has a rabbit named Clover"}));
  EXPECT_EQ(
      Summaries(MakeTurn("I'm 34, live in Valencia with my husband Pablo", "")),
      (Strings{"1|age|34|1|The user is 34", "1|home_city|valencia|1|The user lives in Valencia",
               "1|family:pablo|husband|1|The user's husband is Pablo"}));
  EXPECT_EQ(Summaries(MakeTurn("I'm allergic to penicillin and amoxicillin")),
            (Strings{"1|allergy:penicillin||1|Caroline is allergic to penicillin",
                     "1|allergy:amoxicillin||1|Caroline is allergic to amoxicillin"}));
  // "it" refers back to what the sentence liked before.
  EXPECT_EQ(Summaries(MakeTurn("I used to love hiking but I don't really like it anymore")),
            (Strings{"2|likes:hiking||-1|Caroline really doesn't like hiking"}));
  // A statement before a short question is still a statement.
  EXPECT_EQ(Summaries(MakeTurn("I'm vegan, any recipe ideas?")),
            (Strings{"1|diet|vegan|1|Caroline is vegan"}));
  EXPECT_TRUE(Summaries(MakeTurn("Should I go vegan, any thoughts?")).empty());
}

TEST(ExtractFromTurn, CorrectionsCarryWhatTheyTakeBackAndWhatTheyMean) {
  std::vector<Candidate> c = ExtractFromTurn(MakeTurn("Scratch that, I meant Porto, not Lisbon."));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].slot, "");
  EXPECT_EQ(c[0].corrects, "Lisbon");
  EXPECT_EQ(c[0].correction, "Porto");
  EXPECT_EQ(c[0].text, "Caroline corrected: Porto, not Lisbon");
  // With the candidate of the sentence as the cue, no cue word is needed.
  c = ExtractFromTurn(MakeTurn("I'm allergic to walnuts, not peanuts"));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].slot, "allergy:walnuts");
  EXPECT_EQ(c[1].corrects, "peanuts");
  // "I like tea, not coffee" is a contrast, and "I left Tilde" takes back whatever it was.
  c = ExtractFromTurn(MakeTurn("I like tea, not coffee"));
  ASSERT_EQ(c.size(), 2u);  // the contrast's value is the sentence's own preference
  c = ExtractFromTurn(MakeTurn("He said Porto, not Lisbon"));
  EXPECT_TRUE(c.empty());
  c = ExtractFromTurn(MakeTurn("I left Tilde to study"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].corrects, "Tilde");
  EXPECT_EQ(c[0].correction, "");
  c = ExtractFromTurn(MakeTurn("Oops, I meant Intertech"));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].corrects, "");
  EXPECT_EQ(c[0].correction, "Intertech");
}

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

TEST(SlotValues, YesNoSlotsTakeTheirPolarityAsValue) {
  Candidate c;
  c.slot = "likes:cilantro";
  c.polarity = -1;
  NormaliseSlotValue(&c);
  EXPECT_EQ(c.value, "no");
  c.value = "Yes";  // a model's wording
  c.polarity = 1;
  NormaliseSlotValue(&c);
  EXPECT_EQ(c.value, "yes");
  c.value = "false";
  NormaliseSlotValue(&c);
  EXPECT_EQ((c.value + std::to_string(c.polarity)), "no-1");
  c.slot = "home_city";
  c.value = "oslo";
  NormaliseSlotValue(&c);
  EXPECT_EQ(c.value, "oslo");
  EXPECT_TRUE(IsDefaultValue("allergy:peanuts", "no"));
  EXPECT_TRUE(IsDefaultValue("eats:meat", "yes"));
  EXPECT_FALSE(IsDefaultValue("eats:meat", "no"));
  EXPECT_FALSE(IsDefaultValue("likes:jazz", "no"));
  EXPECT_FALSE(IsDefaultValue("likes:", "no"));
}

TEST(ResolveCorrection, FindsTheSlotThatHeldTheOldWording) {
  const std::vector<SlotValue> known = {
      {"job", "senior engineer", "sam works as a senior engineer", Kind::kFact},
      {"allergy:peanuts", "yes", "sam is allergic to peanuts", Kind::kFact},
      {"home_city", "lisbon", "sam moved to Lisbon", Kind::kFact},
      {"home_city", "madrid", "sam lives in Madrid", Kind::kFact},  // older: not the value
      {"employer", "initech", "sam works at Initech", Kind::kFact},
  };
  Candidate c;
  c.text = "sam corrected: Porto, not Lisbon";
  c.corrects = "Lisbon";
  c.correction = "Porto";
  c.sources = {7};
  std::vector<Candidate> r = ResolveCorrection(c, known);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].slot, "home_city");
  EXPECT_EQ(r[0].value, "porto");
  EXPECT_EQ(r[0].text, "sam moved to Porto");
  EXPECT_EQ(r[0].sources, std::vector<MemoryId>{7});
  EXPECT_TRUE(r[0].corrects.empty());
  // Only the newest value of a slot can be corrected: Madrid was already replaced.
  c.corrects = "Madrid";
  EXPECT_TRUE(ResolveCorrection(c, known).empty());
  // A yes/no slot about the old thing: negated, and the new thing takes its place.
  c.corrects = "peanuts";
  c.correction = "walnuts";
  r = ResolveCorrection(c, known);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].slot + "=" + r[0].value, "allergy:walnuts=yes");
  EXPECT_EQ(r[0].text, "sam is allergic to walnuts");
  EXPECT_EQ(r[1].slot + "=" + r[1].value + std::to_string(r[1].polarity), "allergy:peanuts=no-1");
  // Taken back only ("I left Initech").
  c.corrects = "Initech";
  c.correction = "";
  r = ResolveCorrection(c, known);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].slot + "=" + r[0].value + std::to_string(r[1 - 1].polarity), "employer=initech-1");
  // Meant only ("I meant Intertech", "I meant staff engineer"): the closest value.
  c.corrects = "";
  c.correction = "Intertech";
  r = ResolveCorrection(c, known);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].slot + "=" + r[0].value, "employer=intertech");
  EXPECT_EQ(r[0].text, "sam works at Intertech");
  c.correction = "staff engineer";
  r = ResolveCorrection(c, known);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].slot + "=" + r[0].value, "job=staff engineer");
  c.correction = "Porto";  // nothing close: nothing to correct
  EXPECT_TRUE(ResolveCorrection(c, known).empty());
  c.corrects = "Berlin";  // nobody held Berlin
  EXPECT_TRUE(ResolveCorrection(c, known).empty());
}

TEST(SlotOfStatement, AnAgentsThirdPersonFactsLandInTheUsersSlots) {
  const auto slot = [](std::string_view text, std::string_view user = "maya",
                       std::string_view speaker = "") {
    auto c = SlotOfStatement(text, user, speaker);
    return c ? c->slot + "=" + c->value + (c->polarity < 0 ? " (-)" : "") : std::string("none");
  };
  EXPECT_EQ(slot("Maya is allergic to peanuts"), "allergy:peanuts=yes");
  EXPECT_EQ(slot("maya lives in Porto"), "home_city=porto");
  EXPECT_EQ(slot("The user prefers dark mode"), "likes:dark mode=yes");
  EXPECT_EQ(slot("User hates cilantro"), "likes:cilantro=no (-)");
  EXPECT_EQ(slot("Maya's favorite color is blue"), "favorite:color=blue");
  EXPECT_EQ(slot("Maya no longer lives in Oslo"), "home_city=oslo (-)");
  EXPECT_EQ(slot("Sam works as a nurse", "u-42", "Sam"), "job=nurse");
  EXPECT_EQ(slot("Maya really enjoys watches", "maya"), "likes:watches=yes");
  EXPECT_EQ(slot("Maya is vegetarian"), "diet=vegetarian");
  // Not a slot: someone else's, no subject, nothing the rules know.
  EXPECT_EQ(slot("Maya's sister lives in Paris"), "none");
  EXPECT_EQ(slot("allergic to peanuts"), "none");
  EXPECT_EQ(slot("Maya went to the market"), "none");
  EXPECT_EQ(slot(""), "none");
  EXPECT_EQ(slot("Maya"), "none");
}

TEST(ExtractFromTurn, ShortRepliesAnswerTheAssistantsQuestion) {
  const auto answer = [](const char* asked, const char* reply) {
    Turn t = MakeTurn(reply, "");
    t.user = "sam";
    t.asked = asked;
    return Summaries(t);
  };
  EXPECT_EQ(answer("Paris would be quite a change! Where are you now?",
                   "Gothenburg. And no, I'm not moving"),
            Strings{"1|home_city|gothenburg|1|sam lives in Gothenburg"});
  EXPECT_EQ(answer("Where did you grow up?", "Kumasi, mostly"),
            Strings{"1|hometown|kumasi|1|sam is from Kumasi"});
  EXPECT_EQ(answer("What's your favorite color?", "Green. Always has been"),
            Strings{"1|favorite:color|green|1|sam's favorite color is Green"});
  EXPECT_EQ(answer("Do you like horror movies?", "Nope, too scary"),
            Strings{"2|likes:horror movies||-1|sam doesn't like horror movies"});
  EXPECT_EQ(answer("Any foods you don't like?", "Eggplant. Can't stand it"),
            Strings{"2|likes:eggplant||-1|sam doesn't like Eggplant"});
  EXPECT_EQ(answer("How old are you, if I may ask?", "34 next week lol"),
            Strings{"1|age|34|1|sam is 34"});
  EXPECT_EQ(answer("When is your anniversary?", "Oct 30. We met at a party"),
            Strings{"1|anniversary|october 30|1|sam's anniversary is on October 30"});
  // Not an answer: no question, an earlier sentence's topic, a vague reply, a long reply.
  EXPECT_TRUE(answer("Nice to meet you.", "Gothenburg.").empty());
  EXPECT_TRUE(answer("Denver is great if you like the outdoors. Have you found a place yet?",
                     "Yeah, a little townhouse near Wash Park")
                  .empty());
  EXPECT_TRUE(answer("Do you like horror movies?", "Depends on the night").empty());
  EXPECT_TRUE(answer("Where do you live?",
                     "well it is a long story that starts when my parents left Lagos for good")
                  .empty());
  EXPECT_TRUE(answer("Where does your sister live?", "Paris").empty());
}

}  // namespace
}  // namespace mnemo::write
