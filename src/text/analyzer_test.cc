#include "text/analyzer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace mnemo::text {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Token {
  std::string term;
  size_t begin;
  size_t end;
};

std::vector<Token> TermTokens(std::string_view text) {
  std::vector<Token> tokens;
  ForEachTerm(text, [&](std::string_view term, size_t begin, size_t end) {
    tokens.push_back({std::string(term), begin, end});
  });
  return tokens;
}

bool IsValidUtf8(std::string_view s) {
  // Good enough for tests: checks lead/continuation structure only.
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

TEST(AnalyzerTest, StemsAndDropsStopWords) {
  EXPECT_THAT(Terms("The runners were running quickly"), ElementsAre("runner", "run", "quick"));
}

TEST(AnalyzerTest, DropsFunctionWordsIncludingQuestionWords) {
  EXPECT_THAT(Terms("When did she go to the museum and why?"), ElementsAre("go", "museum"));
  EXPECT_TRUE(IsStopWord("the"));
  EXPECT_TRUE(IsStopWord("where"));
  EXPECT_TRUE(IsStopWord("ourselves"));
  EXPECT_FALSE(IsStopWord("may"));  // a month
  EXPECT_FALSE(IsStopWord("march"));
  EXPECT_FALSE(IsStopWord("mountain"));
  EXPECT_FALSE(IsStopWord(""));
  EXPECT_FALSE(IsStopWord("themselvesxx"));
}

TEST(AnalyzerTest, SplitsOffPossessive) {
  EXPECT_THAT(Words("Caroline's dog"), ElementsAre("caroline", "dog"));
  EXPECT_THAT(Terms("Caroline's dog"), ElementsAre(Stem("caroline"), "dog"));
  // A plural possessive's apostrophe is trailing, so it is not part of the word.
  EXPECT_THAT(Terms("the runners' shoes"), ElementsAre("runner", "shoe"));
  EXPECT_THAT(Words("JAMES'S"), ElementsAre("james"));
}

TEST(AnalyzerTest, ContractionsAreWordsAndStopWords) {
  EXPECT_THAT(Words("I don't know"), ElementsAre("i", "don't", "know"));
  EXPECT_THAT(Terms("I don't know, I'm sure it's fine"), ElementsAre("know", "sure", "fine"));
  EXPECT_THAT(Words("rock'n'roll o'brien"), ElementsAre("rock'n'roll", "o'brien"));
  // Apostrophes not between letters separate.
  EXPECT_THAT(Words("'quoted' x ' y"), ElementsAre("quoted", "x", "y"));
}

TEST(AnalyzerTest, TypographicApostropheActsLikeAscii) {
  EXPECT_THAT(Words("don\u2019t"), ElementsAre("don't"));
  EXPECT_THAT(Terms("I\u2019m sure Melanie\u2019s cat isn\u2019t here"),
              ElementsAre("sure", Stem("melanie"), "cat"));
  const std::string text = "Melanie\u2019s";
  const std::vector<Token> tokens = TermTokens(text);
  ASSERT_EQ(tokens.size(), 1U);
  EXPECT_EQ(text.substr(tokens[0].begin, tokens[0].end - tokens[0].begin), "Melanie");
}

TEST(AnalyzerTest, KeepsNonAsciiWords) {
  EXPECT_THAT(Words("café naïve Zürich señor"), ElementsAre("café", "naïve", "zürich", "señor"));
  EXPECT_THAT(Words("Ελλάδα Москва"), ElementsAre("ελλάδα", "москва"));
  EXPECT_THAT(Words("한국어 텍스트"), ElementsAre("한국어", "텍스트"));
  EXPECT_EQ(Terms("cafés"), Terms("café"));
}

TEST(AnalyzerTest, LowerCasesBeyondAscii) {
  EXPECT_THAT(Words("ÉCOLE"), ElementsAre("école"));
  EXPECT_THAT(Words("ŁÓDŹ ÆSIR ŸES İ"), ElementsAre("łódź", "æsir", "ÿes", "i"));
  EXPECT_THAT(Words("ΆΘΗΝΑ ЁЛКА"), ElementsAre("άθηνα", "ёлка"));
  // Already lower case and caseless letters are untouched.
  EXPECT_THAT(Words("ß ĸ ı"), ElementsAre("ß", "ĸ", "ı"));
}

TEST(AnalyzerTest, IdeographsAreOneWordEach) {
  EXPECT_THAT(Words("東京タワー"), ElementsAre("東", "京", "タ", "ワ", "ー"));
  EXPECT_THAT(Words("tokyo東京"), ElementsAre("tokyo", "東", "京"));
}

TEST(AnalyzerTest, SymbolsAndPunctuationSeparate) {
  EXPECT_THAT(Words("well-known e.g. a/b"), ElementsAre("well", "known", "e", "g", "a", "b"));
  EXPECT_THAT(Words("coffee\u2615tea hi\U0001F600there"),
              ElementsAre("coffee", "tea", "hi", "there"));
  EXPECT_THAT(Words("a\u00A0b\u2014c\u3002d\uFF0Ce 5\u00D73"),
              ElementsAre("a", "b", "c", "d", "e", "5", "3"));
  EXPECT_THAT(Words(""), IsEmpty());
  EXPECT_THAT(Words(" \t\n,.;!?"), IsEmpty());
}

TEST(AnalyzerTest, InvalidUtf8BytesSeparateWords) {
  const std::string cases[] = {
      "abc\xFF"
      "def",  // never valid
      "abc\xC0\xAF"
      "def",  // overlong '/'
      "abc\xED\xA0\x80"
      "def",  // UTF-16 surrogate
      "abc\xF4\x90\x80\x80"
      "def",  // beyond U+10FFFF
      "abc\xE2\x82"
      "def",  // truncated sequence
      "abc\x80\x80"
      "def",  // stray continuation bytes
  };
  for (const std::string& text : cases) {
    EXPECT_THAT(Words(text), ElementsAre("abc", "def")) << testing::PrintToString(text);
  }
  // Truncated sequences at the very end must not read past the input.
  EXPECT_THAT(Words(std::string_view("ab\xE2\x82", 4)), ElementsAre("ab"));
  EXPECT_THAT(Words(std::string_view("ab\xF0", 3)), ElementsAre("ab"));
  EXPECT_THAT(Words(std::string_view("ab\xE2\x80", 4)), ElementsAre("ab"));  // half a U+2019
}

TEST(AnalyzerTest, OffsetsPointToTheSourceWord) {
  const std::string text = "  Running, the DOGS' École\u2019s 東x";
  const std::vector<Token> tokens = TermTokens(text);
  std::vector<std::string> sources;
  for (const Token& t : tokens) {
    ASSERT_LE(t.begin, t.end);
    ASSERT_LE(t.end, text.size());
    sources.push_back(text.substr(t.begin, t.end - t.begin));
  }
  EXPECT_THAT(sources, ElementsAre("Running", "DOGS", "École", "東", "x"));
  EXPECT_EQ(tokens[0].term, "run");
  EXPECT_EQ(tokens[1].term, "dog");
}

TEST(AnalyzerTest, CapsLongWordsAtAUtf8Boundary) {
  const std::string ascii(100, 'a');
  std::vector<std::string> terms = Terms(ascii + " end");
  ASSERT_EQ(terms.size(), 2U);
  EXPECT_EQ(terms[0], std::string(kMaxTermBytes, 'a'));

  std::string accented;  // 'x' then 40 two-byte letters: the cap falls inside a letter
  accented += 'x';
  for (int i = 0; i < 40; ++i) accented += "é";
  terms = Terms(accented);
  ASSERT_EQ(terms.size(), 1U);
  EXPECT_EQ(terms[0].size(), kMaxTermBytes - 1);
  EXPECT_TRUE(IsValidUtf8(terms[0]));

  // Over-long words are cut but not stemmed ("running" would lose its suffix).
  std::string repeated;
  for (int i = 0; i < 12; ++i) repeated += "running";
  terms = Terms(repeated);
  ASSERT_EQ(terms.size(), 1U);
  EXPECT_EQ(terms[0], repeated.substr(0, kMaxTermBytes));

  std::string apostrophes;  // "a'a'a'...": apostrophes must not escape the copy limit
  for (int i = 0; i < 1000; ++i) apostrophes += "a'";
  apostrophes += 'a';
  terms = Terms(apostrophes);
  ASSERT_EQ(terms.size(), 1U);
  EXPECT_EQ(terms[0], apostrophes.substr(0, kMaxTermBytes));

  const std::vector<Token> tokens = TermTokens("go " + repeated);
  ASSERT_EQ(tokens.size(), 2U);
  EXPECT_EQ(tokens[1].begin, 3U);
  EXPECT_EQ(tokens[1].end, 3 + repeated.size());  // offsets still cover the whole word
}

TEST(AnalyzerTest, KeepsNumbersUnstemmed) {
  EXPECT_THAT(Terms("In 2023 I ran 5km on the 12th, 1,000 times"),
              ElementsAre("2023", "ran", "5km", "12th", "1", "000", "time"));
  EXPECT_EQ(Stem("1990"), "1990");
  EXPECT_EQ(Stem("running"), "run");
  EXPECT_EQ(Stem(""), "");
}

TEST(AnalyzerTest, StemCacheNeverChangesResults) {
  // Thousands of distinct words force cache slot collisions and evictions.
  std::vector<std::string> words;
  for (int i = 0; i < 5000; ++i) {
    words.push_back("walk" + std::string(1, static_cast<char>('a' + i % 26)) +
                    std::string(1, static_cast<char>('a' + i / 26 % 26)) + "ing" +
                    std::string(static_cast<size_t>(i / 676), 's'));
  }
  std::vector<std::string> first;
  for (const std::string& w : words) first.push_back(Stem(w));
  for (size_t i = words.size(); i-- > 0;) EXPECT_EQ(Stem(words[i]), first[i]) << words[i];
  EXPECT_EQ(Stem("generously"), "generous");
  EXPECT_EQ(Stem("generously"), "generous");  // now from the cache
  EXPECT_EQ(Stem("internationalization"), "internation");
}

TEST(AnalyzerTest, ForEachWordKeepsStopWordsAndOffsets) {
  std::vector<std::tuple<std::string, size_t, size_t>> words;
  ForEachWord("The Runners", [&](std::string_view w, size_t b, size_t e) {
    words.emplace_back(std::string(w), b, e);
  });
  EXPECT_THAT(words, ElementsAre(std::make_tuple("the", 0, 3), std::make_tuple("runners", 4, 11)));
}

TEST(AnalyzerTest, ForEachWordTermPassesWordAndTerm) {
  std::vector<std::pair<std::string, std::string>> pairs;
  ForEachWordTerm("The Hikers hiked", [&](std::string_view w, std::string_view t, size_t, size_t) {
    pairs.emplace_back(std::string(w), std::string(t));
  });
  EXPECT_THAT(pairs,
              ElementsAre(std::make_pair("hikers", "hiker"), std::make_pair("hiked", "hike")));
}

TEST(AnalyzerTest, CallbacksMayReenterTheAnalyzer) {
  std::vector<std::string> seen;
  ForEachTerm("running dogs", [&](std::string_view term, size_t, size_t) {
    const std::vector<std::string> inner = Terms("completely different words");
    EXPECT_EQ(inner.size(), 3U);
    seen.emplace_back(term);  // `term` must survive the nested call
  });
  EXPECT_THAT(seen, ElementsAre("run", "dog"));
}

TEST(AnalyzerTest, RandomBytesKeepInvariants) {
  // A deterministic mini-fuzzer: bytes biased towards UTF-8 lead and continuation bytes,
  // apostrophes and letters, so that every decoder branch is exercised.
  std::mt19937 rng(42);
  const std::string alphabet = "aZ9' \xC3\xA9\xE2\x80\x99\xF0\x9F\x98\x80\xED\xA0\xC0\xFF\x80";
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 200, '\0');
    for (char& c : text) {
      c = rng() % 4 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    size_t previous_end = 0;
    ForEachTerm(text, [&](std::string_view term, size_t begin, size_t end) {
      EXPECT_LT(begin, end);
      EXPECT_LE(end, text.size());
      EXPECT_LE(previous_end, begin);
      previous_end = end;
      EXPECT_FALSE(term.empty());
      EXPECT_LE(term.size(), kMaxTermBytes);
      EXPECT_TRUE(IsValidUtf8(term));
    });
  }
}

TEST(AnalyzerTest, ConcurrentCallsAgree) {
  const std::string text =
      "Caroline went to the LGBTQ support group yesterday and felt really supported; "
      "Melanie’s kids were painting sunsets by the lake. Ελλάδα, École, 東京.";
  const std::vector<std::string> expected = Terms(text);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (Terms(text) != expected) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

}  // namespace
}  // namespace mnemo::text
