// Text analysis shared by the lexical index, query parsing and the builtin embedder.
//
// A term is a word (a maximal run of letters or digits; non-ASCII UTF-8 letters count
// as letters and are kept as they are), lower-cased, with English stop words dropped,
// stemmed with the Snowball English stemmer. "The runners were running" -> {"runner", "run"}.
//
// Word rules, in detail:
//  - Letters are ASCII letters and digits plus every valid non-ASCII code point >= U+00C0
//    except symbol and punctuation blocks (U+00D7, U+00F7, U+2000-U+2BFF, U+2E00-U+2E7F,
//    U+3000-U+303F, private use, U+FE00-U+FE6F, fullwidth punctuation, specials, emoji
//    U+1F000-U+1FBFF, tags). Everything else, including invalid UTF-8, separates words.
//  - CJK ideographs and kana (no spaces between words) are one word per code point.
//  - An apostrophe (' or U+2019) between two letters stays in the word as "'" ("don't",
//    "o'brien"), except a possessive "'s", which is dropped ("Caroline's" -> "caroline",
//    offsets cover "Caroline"). Contractions are in the stop list.
//  - Lower-casing covers ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic.
//  - Words are cut to kMaxTermBytes at a UTF-8 boundary; all-digit words are not stemmed.
//
// Thread safety: all functions are safe to call concurrently (stemmers are per thread).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mnemo::text {

// Calls fn(term, begin, end) for each term, where [begin, end) are the byte offsets of
// the source word in `text`. Invalid UTF-8 bytes are treated as separators.
using TermCallback = std::function<void(std::string_view term, size_t begin, size_t end)>;
void ForEachTerm(std::string_view text, const TermCallback& fn);

// Like ForEachTerm, but also passes the lower-cased word each term was stemmed from (the
// builtin embedder hashes both). Views are valid only during the call.
using WordTermCallback =
    std::function<void(std::string_view word, std::string_view term, size_t begin, size_t end)>;
void ForEachWordTerm(std::string_view text, const WordTermCallback& fn);

// Calls fn(word, begin, end) for every word, lower-cased, stop words included, unstemmed.
// This is what queries of the lexical index use.
void ForEachWord(std::string_view text, const TermCallback& fn);

// The terms of `text` in order (duplicates kept).
std::vector<std::string> Terms(std::string_view text);

// Lower-cased words in order, without stop-word removal or stemming.
std::vector<std::string> Words(std::string_view text);

// `text` lower-cased with the analyzer's case fold (ASCII, Latin-1, Latin Extended-A,
// basic Greek and Cyrillic), every other character and invalid byte kept as it is. The
// filter language's icontains compares through it (store/filter_expr.h).
std::string FoldCase(std::string_view text);

// Terms and words are capped at this many bytes (cut at a UTF-8 boundary); longer words
// are not stemmed.
inline constexpr size_t kMaxTermBytes = 64;

// `lowercase_word` uses the ASCII apostrophe ("don't"), as the analyzer produces it.
bool IsStopWord(std::string_view lowercase_word);
// Snowball English stem; all-digit words and words over kMaxTermBytes come back unchanged.
std::string Stem(std::string_view lowercase_word);

}  // namespace mnemo::text
