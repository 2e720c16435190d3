// Internal to src/write: the text units the extraction rules work on — sentence spans and
// words with byte offsets — shared by extract_rules.cc and text_features.cc.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mnemo::write::internal {

struct Span {
  size_t begin = 0;  // byte offsets, [begin, end), trimmed
  size_t end = 0;
};

// The sentences of `text` as trimmed spans (see SplitSentences in extract_rules.h).
std::vector<Span> SentenceSpans(std::string_view text);

struct Word {
  size_t begin = 0;  // byte offsets of the word in the text (a possessive "'s" excluded)
  size_t end = 0;
  std::string lower;         // text::ForEachWord's form: lower-cased, ASCII apostrophe
  bool capitalised = false;  // the first letter is upper case in the text
  bool possessive = false;   // followed by "'s" ("Caroline's")
  bool joined = false;       // only spaces separate it from the previous word
};

// Every word of `text`, stop words included, in order.
std::vector<Word> RuleWords(std::string_view text);

inline bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsAsciiLetter(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }

// Conversational words that carry no content ("yeah", "awesome", "thanks"), beyond the
// analyzer's stop words; they are neither entities nor key phrases.
bool IsFiller(std::string_view lowercase_word);

}  // namespace mnemo::write::internal
