// Sentences, entities and key phrases: the text features every rule-derived memory carries.
#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "text/analyzer.h"
#include "write/extract_rules.h"
#include "write/rule_text.h"

namespace mnemo::write {
namespace internal {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// U+2026 (horizontal ellipsis) and the closing quotes U+2019 / U+201D, as UTF-8.
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";
constexpr std::string_view kRightSingleQuote = "\xE2\x80\x99";
constexpr std::string_view kRightDoubleQuote = "\xE2\x80\x9D";

bool At(std::string_view text, size_t pos, std::string_view what) {
  return text.substr(pos, what.size()) == what;
}

// A dot after these never ends a sentence: titles come before a name, "e.g." before an
// example, abbreviated months before a day.
bool NeverEnds(std::string_view word) {
  static const std::unordered_set<std::string_view>& kWords =
      *new std::unordered_set<std::string_view>{
          "mr",  "mrs",  "ms",  "dr",     "prof", "st",  "jr",  "sr",  "vs",  "e.g", "i.e",
          "cf",  "mt",   "fig", "approx", "jan",  "feb", "mar", "apr", "jun", "jul", "aug",
          "sep", "sept", "oct", "nov",    "dec",  "u.s", "u.k", "ft",  "lt",  "gen", "rev"};
  return kWords.count(word) > 0;
}

// A dot after these ends a sentence only when a capital follows ("etc. Then").
bool EndsBeforeCapital(std::string_view word) {
  static const std::unordered_set<std::string_view>& kWords =
      *new std::unordered_set<std::string_view>{"etc", "a.m", "p.m", "inc", "ltd", "co", "al"};
  return kWords.count(word) > 0;
}

// The letters-and-dots word that ends just before text[dot], lower-cased ("e.g" for "e.g.").
std::string WordBefore(std::string_view text, size_t dot) {
  size_t b = dot;
  while (b > 0 && (IsAsciiLetter(text[b - 1]) || text[b - 1] == '.')) --b;
  std::string w;
  for (size_t i = b; i < dot; ++i) {
    w.push_back(IsUpper(text[i]) ? static_cast<char>(text[i] + 32) : text[i]);
  }
  while (!w.empty() && w.front() == '.') w.erase(w.begin());
  return w;
}

bool HasWord(std::string_view text) { return !text::Words(text).empty(); }

}  // namespace

std::vector<Span> SentenceSpans(std::string_view text) {
  std::vector<Span> raw;
  const size_t n = text.size();
  size_t start = 0;
  auto cut = [&](size_t end) {
    size_t b = start;
    size_t e = end;
    while (b < e && IsSpace(text[b])) ++b;
    while (e > b && IsSpace(text[e - 1])) --e;
    if (b < e) {
      // A fragment without words (an emoji, "!!") belongs to the sentence before it on the
      // same line.
      const bool same_line =
          !raw.empty() &&
          text.substr(raw.back().end, b - raw.back().end).find('\n') == std::string_view::npos;
      if (!HasWord(text.substr(b, e - b)) && same_line) {
        raw.back().end = e;
      } else {
        raw.push_back({b, e});
      }
    }
  };
  size_t pos = 0;
  while (pos < n) {
    const char c = text[pos];
    if (c == '\n' || c == '\r') {
      cut(pos);
      start = ++pos;
      continue;
    }
    const bool ellipsis_char = At(text, pos, kEllipsis);
    if (static_cast<unsigned char>(c) == 0xF0 && pos + 4 < n) {
      // An emoji between two sentences ends the first: "Thanks 😊 See you".
      size_t next = pos + 4;
      while (next < n && text[next] == ' ') ++next;
      if (next > pos + 4 && next < n && IsUpper(text[next])) {
        cut(pos + 4);
        start = pos + 4;
      }
      pos += 4;
      continue;
    }
    if (c != '.' && c != '!' && c != '?' && !ellipsis_char) {
      ++pos;
      continue;
    }
    // The run of terminators, then any closing quotes and brackets.
    size_t r = pos;
    bool only_dots = true;
    size_t dots = 0;
    while (r < n) {
      if (text[r] == '.') {
        ++dots;
        ++r;
      } else if (text[r] == '!' || text[r] == '?') {
        only_dots = false;
        ++r;
      } else if (At(text, r, kEllipsis)) {
        dots += 3;
        r += kEllipsis.size();
      } else {
        break;
      }
    }
    size_t q = r;
    while (q < n) {
      if (text[q] == '"' || text[q] == '\'' || text[q] == ')' || text[q] == ']') {
        ++q;
      } else if (At(text, q, kRightSingleQuote) || At(text, q, kRightDoubleQuote)) {
        q += 3;
      } else {
        break;
      }
    }
    // Dots inside "3.5", "example.com" or "e.g." are not followed by a space.
    if (q < n && !IsSpace(text[q])) {
      pos = q;
      continue;
    }
    size_t next = q;
    while (next < n && (text[next] == ' ' || text[next] == '\t')) ++next;
    const bool capital_next = next < n && (IsUpper(text[next]) || text[next] == '"');
    bool split = true;
    if (only_dots && dots == 1 && q == r) {
      const std::string word = WordBefore(text, pos);
      const bool initial = word.size() == 1 && IsUpper(text[pos - 1]);
      if (NeverEnds(word) || initial) split = false;
      if (EndsBeforeCapital(word) && !capital_next) split = false;
    } else if (q > r && next < n && text[next] >= 'a' && text[next] <= 'z') {
      split = false;  // "\"Really?\" she said."
    } else if (only_dots && dots > 1) {
      split = capital_next || next >= n || text[next] == '\n';  // "I was... maybe" goes on
    }
    if (split) {
      cut(q);
      start = q;
    }
    pos = q;
  }
  cut(n);
  return raw;
}

std::vector<Word> RuleWords(std::string_view text) {
  std::vector<Word> words;
  size_t prev_end = 0;
  text::ForEachWord(text, [&](std::string_view lower, size_t begin, size_t end) {
    Word w;
    w.begin = begin;
    w.end = end;
    w.lower = std::string(lower);
    // Upper case when the source bytes differ from the lower-cased form at the start.
    w.capitalised = text[begin] != lower[0] || IsUpper(text[begin]);
    const std::string_view after = text.substr(end);
    w.possessive =
        (after.size() >= 2 && after[0] == '\'' && (after[1] == 's' || after[1] == 'S')) ||
        (after.size() >= 4 && At(after, 0, kRightSingleQuote) &&
         (after[3] == 's' || after[3] == 'S'));
    w.joined = !words.empty();
    if (w.joined) {
      const std::string_view gap = text.substr(prev_end, begin - prev_end);
      // A hyphen inside a compound ("sci-fi", "dairy-free") joins like a space.
      w.joined = gap.find_first_not_of(" \t") == std::string_view::npos || gap == "-" ||
                 (words.back().possessive && gap.size() <= 5);
    }
    prev_end = end;
    words.push_back(std::move(w));
  });
  return words;
}

bool IsFiller(std::string_view w) {
  static const std::unordered_set<std::string_view>& kWords =
      *new std::unordered_set<std::string_view>{"really",
                                                "yeah",
                                                "yes",
                                                "yep",
                                                "hey",
                                                "hi",
                                                "hello",
                                                "wow",
                                                "thanks",
                                                "thank",
                                                "ok",
                                                "okay",
                                                "great",
                                                "good",
                                                "nice",
                                                "awesome",
                                                "amazing",
                                                "cool",
                                                "glad",
                                                "sure",
                                                "totally",
                                                "definitely",
                                                "actually",
                                                "like",
                                                "love",
                                                "lot",
                                                "lots",
                                                "thing",
                                                "things",
                                                "stuff",
                                                "get",
                                                "got",
                                                "gonna",
                                                "wanna",
                                                "feel",
                                                "think",
                                                "know",
                                                "mean",
                                                "want",
                                                "make",
                                                "made",
                                                "going",
                                                "go",
                                                "went",
                                                "lol",
                                                "haha",
                                                "omg",
                                                "kinda",
                                                "pretty",
                                                "super",
                                                "always",
                                                "never",
                                                "sometimes",
                                                "today",
                                                "yesterday",
                                                "tomorrow",
                                                "tonight",
                                                "week",
                                                "weekend",
                                                "month",
                                                "year",
                                                "last",
                                                "next",
                                                "ago",
                                                "day",
                                                "days",
                                                "time",
                                                "sounds",
                                                "seems",
                                                "well",
                                                "maybe",
                                                "congrats",
                                                "congratulations",
                                                "wonderful",
                                                "fantastic",
                                                "incredible",
                                                "sorry",
                                                "please",
                                                "dear",
                                                "i'm",
                                                "i've",
                                                "i'd",
                                                "i'll",
                                                "you're",
                                                "it's",
                                                "that's",
                                                "let",
                                                "btw",
                                                "tbh",
                                                "said",
                                                "says",
                                                "told",
                                                "asked",
                                                "fun",
                                                "happy",
                                                "excited",
                                                "hear",
                                                "see",
                                                "say"};
  return kWords.count(w) > 0;
}

}  // namespace internal

using internal::Word;

std::vector<std::string> SplitSentences(std::string_view text) {
  std::vector<std::string> out;
  for (const internal::Span& s : internal::SentenceSpans(text)) {
    out.emplace_back(text.substr(s.begin, s.end - s.begin));
  }
  return out;
}

namespace {

bool IsCalendarWord(std::string_view w) {
  static const std::unordered_set<std::string_view>& kWords =
      *new std::unordered_set<std::string_view>{
          "monday",  "tuesday",   "wednesday", "thursday", "friday",  "saturday", "sunday",
          "january", "february",  "march",     "april",    "may",     "june",     "july",
          "august",  "september", "october",   "november", "december"};
  return kWords.count(w) > 0;
}

bool AllUpper(std::string_view text) {
  size_t letters = 0;
  for (char c : text) {
    if (c >= 'a' && c <= 'z') return false;
    if (internal::IsUpper(c)) ++letters;
  }
  return letters >= 2;
}

bool HasLetter(std::string_view w) {
  return std::any_of(w.begin(), w.end(), [](char c) {
    return internal::IsAsciiLetter(c) || static_cast<unsigned char>(c) >= 0x80;
  });
}

bool IsTitle(std::string_view w) {
  return w == "mr" || w == "mrs" || w == "ms" || w == "dr" || w == "prof" || w == "st";
}

// A word that may be part of a name: capitalised and not a function, filler or calendar
// word, nor the pronoun "I" and its contractions.
bool NameWord(const Word& w) {
  return w.capitalised && HasLetter(w.lower) && !text::IsStopWord(w.lower) &&
         !internal::IsFiller(w.lower) && !IsCalendarWord(w.lower) && w.lower != "i" &&
         w.lower.rfind("i'", 0) != 0;
}

}  // namespace

std::vector<std::string> ExtractEntities(std::string_view text) {
  struct Sentence {
    std::string_view text;
    std::vector<Word> words;
  };
  std::vector<Sentence> sentences;
  // Words seen capitalised away from a sentence start are names wherever they appear.
  std::unordered_set<std::string> names_inside;
  for (const internal::Span& span : internal::SentenceSpans(text)) {
    Sentence s{text.substr(span.begin, span.end - span.begin), {}};
    s.words = internal::RuleWords(s.text);
    for (size_t k = 1; k < s.words.size(); ++k) {
      if (NameWord(s.words[k])) names_inside.insert(s.words[k].lower);
    }
    sentences.push_back(std::move(s));
  }
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const Sentence& s : sentences) {
    const std::vector<Word>& ws = s.words;
    size_t k = 0;
    while (k < ws.size()) {
      if (!NameWord(ws[k])) {
        ++k;
        continue;
      }
      size_t last = k;  // extend over joined name words, and "of" between two of them
      while (last + 1 < ws.size() && !ws[last].possessive) {
        const bool after_title =
            IsTitle(ws[last].lower) && NameWord(ws[last + 1]) &&
            s.text.substr(ws[last].end, ws[last + 1].begin - ws[last].end) == ". ";
        if ((ws[last + 1].joined || after_title) && NameWord(ws[last + 1])) {
          ++last;
        } else if (last + 2 < ws.size() && ws[last + 1].lower == "of" && ws[last + 1].joined &&
                   ws[last + 2].joined && NameWord(ws[last + 2])) {
          last += 2;
        } else {
          break;
        }
      }
      const std::string_view name = s.text.substr(ws[k].begin, ws[last].end - ws[k].begin);
      const bool initial = k == 0;
      if (!initial || last > k || AllUpper(name) || names_inside.count(ws[k].lower) > 0) {
        std::string key = text::Words(name).empty() ? std::string(name) : std::string();
        for (const std::string& w : text::Words(name)) key += w + " ";
        if (seen.insert(key).second) out.emplace_back(name);
      }
      k = last + 1;
    }
  }
  return out;
}

std::vector<std::string> ExtractKeyphrases(std::string_view text, size_t max) {
  // RAKE-style: candidate phrases are runs of content words; a word scores its degree
  // (the length of the phrases it occurs in) over its frequency, so words that appear in
  // longer phrases outrank frequent single words, and a phrase scores the sum.
  constexpr size_t kMaxWords = 4;
  std::vector<std::vector<std::string>> phrases;
  for (const internal::Span& span : internal::SentenceSpans(text)) {
    const std::vector<Word> ws =
        internal::RuleWords(text.substr(span.begin, span.end - span.begin));
    std::vector<std::string> run;
    auto flush = [&] {
      if (!run.empty()) phrases.push_back(std::move(run));
      run.clear();
    };
    for (const Word& w : ws) {
      const bool content = HasLetter(w.lower) && !text::IsStopWord(w.lower) &&
                           !internal::IsFiller(w.lower) && !IsCalendarWord(w.lower);
      if (!w.joined || !content || run.size() == kMaxWords) flush();
      if (content) run.push_back(w.lower);
      if (w.possessive) flush();
    }
    flush();
  }
  std::unordered_map<std::string, double> freq;
  std::unordered_map<std::string, double> degree;
  for (const auto& p : phrases) {
    for (const std::string& w : p) {
      freq[w] += 1;
      degree[w] += static_cast<double>(p.size());
    }
  }
  struct Scored {
    std::string phrase;
    double score;
    size_t order;
  };
  std::vector<Scored> scored;
  std::unordered_set<std::string> seen;
  for (const auto& p : phrases) {
    std::string phrase;
    double score = 0;
    for (const std::string& w : p) {
      if (!phrase.empty()) phrase += ' ';
      phrase += w;
      score += degree[w] / freq[w];
    }
    if (p.size() == 1 && phrase.size() < 3) continue;
    if (!seen.insert(phrase).second) continue;
    scored.push_back({std::move(phrase), score, scored.size()});
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.score > b.score; });
  std::vector<std::string> out;
  for (size_t k = 0; k < scored.size() && out.size() < max; ++k) {
    out.push_back(std::move(scored[k].phrase));
  }
  return out;
}

}  // namespace mnemo::write
