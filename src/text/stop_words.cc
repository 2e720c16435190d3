// English stop words: function words that carry no lexical signal for BM25 or the
// embedder. Content words stay, even frequent ones, and so do numbers and month names
// ("may", "march"), which matter for temporal questions.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "text/analyzer.h"

namespace mnemo::text {
namespace {

// Keeping the list in one place (not sorted by hand) lets each group stay readable.
constexpr auto kStopWords = std::to_array<std::string_view>({
    // clang-format off
    // Articles, determiners, quantifiers.
    "a", "an", "the", "this", "that", "these", "those", "all", "any", "both", "each", "either",
    "neither", "every", "few", "more", "most", "other", "another", "some", "such", "no", "nor",
    "not", "only", "own", "same", "so", "than", "too", "very", "much", "many",
    // Personal, possessive and reflexive pronouns.
    "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "you", "your",
    "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers",
    "herself", "it", "its", "itself", "they", "them", "their", "theirs", "themselves",
    // Interrogatives and relatives.
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "whether",
    // Auxiliaries and modals ("may" is a month, "will" and "can" are mostly auxiliaries).
    "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having", "do",
    "does", "did", "doing", "will", "would", "shall", "should", "can", "could", "might", "must",
    "ought",
    // Prepositions.
    "of", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during",
    "before", "after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off",
    "over", "under", "onto", "upon", "within", "without", "toward", "towards", "across", "along",
    "among", "around", "behind", "beside", "besides", "beyond", "near", "per", "via",
    // Conjunctions and adverbs of pure function.
    "and", "but", "if", "or", "because", "as", "until", "while", "although", "though", "unless",
    "since", "again", "further", "then", "once", "here", "there", "just", "also", "now", "yet",
    "else", "even", "ever", "still",
    // Contractions (apostrophe normalised to ASCII). Those ending in "'s" never reach the
    // list: the possessive split turns "it's" into "it".
    "ain't", "aren't", "can't", "cannot", "couldn't", "didn't", "doesn't", "don't", "hadn't",
    "hasn't", "haven't", "isn't", "mightn't", "mustn't", "needn't", "shan't", "shouldn't",
    "wasn't", "weren't", "won't", "wouldn't", "i'm", "i've", "i'd", "i'll", "you're", "you've",
    "you'd", "you'll", "he'd", "he'll", "she'd", "she'll", "it'd", "it'll", "we're", "we've",
    "we'd", "we'll", "they're", "they've", "they'd", "they'll", "that'd", "that'll", "there'd",
    "there'll", "who'd", "who'll", "y'all",
    // Leftovers of split abbreviations and conversational fillers.
    "s", "t", "oh", "uh", "um", "ah",
    // clang-format on
});

constexpr bool HasDuplicates() {
  auto sorted = kStopWords;
  std::sort(sorted.begin(), sorted.end());
  return std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
}
static_assert(!HasDuplicates(), "duplicate stop word");

constexpr size_t kLongestStopWord = [] {
  size_t longest = 0;
  for (std::string_view w : kStopWords) longest = std::max(longest, w.size());
  return longest;
}();

// An open-addressing hash table built at compile time: one hash and usually one comparison
// per lookup, which matters because every word of every document is looked up. No
// allocation and no static initialisation order issues.
constexpr size_t kTableSize = 1024;  // a power of two, over 4x the entries: short probes
static_assert(kTableSize >= 2 * kStopWords.size());

constexpr size_t HashWord(std::string_view word) {
  uint32_t h = 2166136261U;  // 32-bit FNV-1a
  for (char c : word) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619U;
  }
  return h & (kTableSize - 1);
}

constexpr auto kTable = [] {
  std::array<std::string_view, kTableSize> table{};
  for (std::string_view word : kStopWords) {
    size_t slot = HashWord(word);
    while (!table[slot].empty()) slot = (slot + 1) & (kTableSize - 1);
    table[slot] = word;
  }
  return table;
}();

}  // namespace

bool IsStopWord(std::string_view lowercase_word) {
  if (lowercase_word.empty() || lowercase_word.size() > kLongestStopWord) return false;
  for (size_t slot = HashWord(lowercase_word); !kTable[slot].empty();
       slot = (slot + 1) & (kTableSize - 1)) {
    if (kTable[slot] == lowercase_word) return true;
  }
  return false;
}

}  // namespace mnemo::text
