#include "text/unicode.h"

namespace mnemo::text::internal {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool IsIdeograph(char32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) ||  // Hiragana, Katakana
         (cp >= 0x3400 && cp <= 0x4DBF) ||  // CJK Extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||  // CJK Unified Ideographs
         (cp >= 0xF900 && cp <= 0xFAFF) ||  // CJK Compatibility Ideographs
         (cp >= 0x20000 && cp <= 0x3FFFF);  // CJK Extensions B and later
}

// Blocks of symbols and punctuation; every other code point >= U+00C0 counts as a letter.
// Being generous here is deliberate: a foreign word kept whole is still a useful term,
// a symbol glued to a word would only create a term nobody searches for.
bool IsLetterLike(char32_t cp) {
  if (cp < 0xC0) return false;                 // C1 controls, NBSP, Latin-1 punctuation and signs
  if (cp == 0xD7 || cp == 0xF7) return false;  // multiplication and division signs
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, currency, arrows, math...
  if (cp >= 0x2E00 && cp <= 0x2E7F) return false;  // supplemental punctuation
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK symbols and punctuation
  if (cp >= 0xE000 && cp <= 0xF8FF) return false;  // private use
  if (cp >= 0xFE00 && cp <= 0xFE6F) return false;  // variation selectors, CJK forms
  if (cp == 0xFEFF) return false;                  // byte order mark
  if ((cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
      (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65)) {
    return false;  // fullwidth punctuation
  }
  if (cp >= 0xFFF0 && cp <= 0xFFFF) return false;    // specials
  if (cp >= 0x1F000 && cp <= 0x1FBFF) return false;  // emoji, pictographs, game symbols
  if (cp >= 0xE0000) return false;  // tags, variation selectors, private use planes
  return true;
}

CharKind Classify(char32_t cp) {
  if (cp == 0x2019) return CharKind::kApostrophe;
  if (IsIdeograph(cp)) return CharKind::kIdeograph;
  return IsLetterLike(cp) ? CharKind::kLetter : CharKind::kSeparator;
}

}  // namespace

DecodedChar DecodeMultiByte(std::string_view text, size_t pos) {
  constexpr DecodedChar kInvalid{kReplacement, 1, CharKind::kSeparator};
  const auto lead = static_cast<unsigned char>(text[pos]);
  size_t trail = 0;
  char32_t cp = 0;
  // The first continuation byte's range excludes overlong forms, surrogates and values
  // beyond U+10FFFF (RFC 3629 table), so every accepted sequence is a valid scalar value.
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    trail = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    trail = 2;
    cp = lead & 0x0F;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    trail = 3;
    cp = lead & 0x07;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return kInvalid;
  }
  if (text.size() - pos <= trail) return kInvalid;
  for (size_t k = 1; k <= trail; ++k) {
    const auto b = static_cast<unsigned char>(text[pos + k]);
    if (b < lo || b > hi) return kInvalid;
    cp = (cp << 6) | (b & 0x3F);
    lo = 0x80;
    hi = 0xBF;
  }
  return {cp, static_cast<uint8_t>(trail + 1), Classify(cp)};
}

char32_t ToLowerNonAscii(char32_t cp) {
  if (cp < 0xC0 || cp > 0x42F) return cp;
  if (cp <= 0xDE) return cp == 0xD7 ? cp : cp + 0x20;  // Latin-1: À..Þ -> à..þ
  if (cp >= 0x100 && cp <= 0x17F) {                    // Latin Extended-A
    if (cp == 0x130) return 'i';                       // İ (simple mapping)
    if (cp == 0x178) return 0xFF;                      // Ÿ -> ÿ
    // Pairs start on an even code point, except in U+0139..U+0148 and U+0179..U+017E.
    const bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    const bool even_upper = cp <= 0x137 || (cp >= 0x14A && cp <= 0x177);
    if (odd_upper && (cp & 1) == 1) return cp + 1;
    if (even_upper && (cp & 1) == 0) return cp + 1;
    return cp;
  }
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;  // Greek capitals
  if (cp == 0x386) return 0x3AC;                                    // Greek with tonos
  if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
  if (cp == 0x38C) return 0x3CC;
  if (cp == 0x38E || cp == 0x38F) return cp + 0x3F;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;  // Cyrillic Ѐ..Џ
  if (cp >= 0x410) return cp + 0x20;                 // Cyrillic А..Я
  return cp;
}

}  // namespace mnemo::text::internal
