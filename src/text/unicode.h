// Internal to src/text: UTF-8 decoding and the character classes behind the word rules
// documented in analyzer.h. No ICU: mnemo needs "is this part of a word" and a simple case
// fold for the scripts its users write most, not full Unicode segmentation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mnemo::text::internal {

enum class CharKind : uint8_t {
  kSeparator,   // whitespace, punctuation, symbols, invalid UTF-8
  kLetter,      // part of a word
  kIdeograph,   // a word on its own (CJK ideographs, kana)
  kApostrophe,  // ' or U+2019: part of a word only between two letters
};

struct DecodedChar {
  char32_t code_point;  // U+FFFD for an invalid byte
  uint8_t length;       // bytes consumed, always >= 1 so scanning makes progress
  CharKind kind;
};

// Non-ASCII slow path of DecodeAt.
DecodedChar DecodeMultiByte(std::string_view text, size_t pos);

// Indexed by an ASCII byte; a table because this runs for every byte of every text.
inline constexpr auto kAsciiKinds = [] {
  std::array<CharKind, 128> kinds{};
  for (int c = 0; c < 128; ++c) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    kinds[c] = alnum ? CharKind::kLetter : CharKind::kSeparator;
  }
  kinds['\''] = CharKind::kApostrophe;
  return kinds;
}();

inline char ToLowerAscii(unsigned char c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

// Decodes the character starting at text[pos]; requires pos < text.size().
inline DecodedChar DecodeAt(std::string_view text, size_t pos) {
  const auto c = static_cast<unsigned char>(text[pos]);
  if (c < 0x80) return {c, 1, kAsciiKinds[c]};
  return DecodeMultiByte(text, pos);
}

// Simple (one-to-one) lower-case mapping for non-ASCII letters in Latin-1, Latin
// Extended-A, Greek and Cyrillic; other code points map to themselves.
char32_t ToLowerNonAscii(char32_t cp);

// Appends the lower-cased form of the character text[pos, pos + c.length) to `out`.
inline void AppendLower(std::string_view text, size_t pos, const DecodedChar& c, std::string* out) {
  if (c.length == 1) {
    out->push_back(ToLowerAscii(static_cast<unsigned char>(text[pos])));
    return;
  }
  const char32_t lower = ToLowerNonAscii(c.code_point);
  if (lower == c.code_point) {
    out->append(text.substr(pos, c.length));
  } else if (lower < 0x80) {
    out->push_back(static_cast<char>(lower));
  } else {  // every mapped letter is below U+0800: two bytes
    out->push_back(static_cast<char>(0xC0 | (lower >> 6)));
    out->push_back(static_cast<char>(0x80 | (lower & 0x3F)));
  }
}

// Shortens `s` to at most `max_bytes` without splitting a UTF-8 sequence.
inline void TruncateUtf8(std::string* s, size_t max_bytes) {
  if (s->size() <= max_bytes) return;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>((*s)[cut]) & 0xC0) == 0x80) --cut;
  s->resize(cut);
}

}  // namespace mnemo::text::internal
