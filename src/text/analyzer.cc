#include "text/analyzer.h"

#include "text/stemmer.h"
#include "text/unicode.h"

namespace mnemo::text {
namespace {

using internal::CharKind;
using internal::DecodeAt;
using internal::DecodedChar;

bool AllDigits(std::string_view word) {
  for (char c : word) {
    if (c < '0' || c > '9') return false;
  }
  return !word.empty();
}

// Writes the term for a lower-cased, non-stop `word` into `term`.
void StemInto(std::string_view word, bool truncated, std::string* term) {
  if (truncated || AllDigits(word)) {
    term->assign(word);
  } else {
    internal::SnowballStem(word, term);
  }
}

// True if no letter starts at `pos`, i.e. a word ending before `pos` is complete.
bool WordEndsAt(std::string_view text, size_t pos) {
  return pos >= text.size() || DecodeAt(text, pos).kind != CharKind::kLetter;
}

// The segmentation loop shared by every entry point. Calls
// fn(lowercase_word, begin, end, truncated); `word` is valid only during the call.
template <typename Fn>
void ScanWords(std::string_view text, Fn&& fn) {
  std::string word;
  word.reserve(kMaxTermBytes * 2);
  const size_t n = text.size();
  size_t pos = 0;
  while (pos < n) {
    DecodedChar c = DecodeAt(text, pos);
    if (c.kind == CharKind::kIdeograph) {  // caseless and always short
      fn(text.substr(pos, c.length), pos, pos + c.length, false);
      pos += c.length;
      continue;
    }
    if (c.kind != CharKind::kLetter) {
      pos += c.length;
      continue;
    }
    const size_t begin = pos;
    size_t end = pos;
    word.clear();
    while (pos < n) {
      // Past twice the cap only the offsets matter: stop copying a pathological run.
      const bool copy = word.size() < kMaxTermBytes * 2;
      const auto byte = static_cast<unsigned char>(text[pos]);
      if (byte < 0x80 && internal::kAsciiKinds[byte] == CharKind::kLetter) {  // fast path
        if (copy) word.push_back(internal::ToLowerAscii(byte));
        end = ++pos;
        continue;
      }
      c = DecodeAt(text, pos);
      if (c.kind == CharKind::kLetter) {
        if (copy) internal::AppendLower(text, pos, c, &word);
        pos += c.length;
        end = pos;
        continue;
      }
      if (c.kind != CharKind::kApostrophe) break;
      const size_t after = pos + c.length;
      if (WordEndsAt(text, after)) break;
      const char next = text[after];
      if ((next == 's' || next == 'S') && WordEndsAt(text, after + 1)) {
        pos = after + 1;  // possessive "'s": not part of the word or its offsets
        break;
      }
      if (copy) word.push_back('\'');
      pos = after;
    }
    const bool truncated = word.size() > kMaxTermBytes;
    internal::TruncateUtf8(&word, kMaxTermBytes);
    fn(std::string_view(word), begin, end, truncated);
  }
}

// Calls fn(lowercase_word, term, begin, end) for each non-stop word.
template <typename Fn>
void ScanTerms(std::string_view text, Fn&& fn) {
  std::string term;
  term.reserve(kMaxTermBytes * 2);
  ScanWords(text, [&](std::string_view word, size_t begin, size_t end, bool truncated) {
    if (IsStopWord(word)) return;
    StemInto(word, truncated, &term);
    fn(word, std::string_view(term), begin, end);
  });
}

}  // namespace

void ForEachWordTerm(std::string_view text, const WordTermCallback& fn) { ScanTerms(text, fn); }

void ForEachTerm(std::string_view text, const TermCallback& fn) {
  ScanTerms(text, [&](std::string_view, std::string_view term, size_t begin, size_t end) {
    fn(term, begin, end);
  });
}

void ForEachWord(std::string_view text, const TermCallback& fn) {
  ScanWords(text, [&](std::string_view word, size_t begin, size_t end, bool /*truncated*/) {
    fn(word, begin, end);
  });
}

std::vector<std::string> Terms(std::string_view text) {
  std::vector<std::string> terms;
  ScanTerms(text, [&](std::string_view, std::string_view term, size_t, size_t) {
    terms.emplace_back(term);
  });
  return terms;
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  ScanWords(text, [&](std::string_view word, size_t, size_t, bool) { words.emplace_back(word); });
  return words;
}

std::string FoldCase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const DecodedChar c = DecodeAt(text, pos);  // an invalid byte: length 1, kept
    internal::AppendLower(text, pos, c, &out);
    pos += c.length;
  }
  return out;
}

std::string Stem(std::string_view lowercase_word) {
  std::string term;
  StemInto(lowercase_word, lowercase_word.size() > kMaxTermBytes, &term);
  return term;
}

}  // namespace mnemo::text
