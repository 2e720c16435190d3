#include "write/secrets.h"

#include <algorithm>
#include <cctype>

namespace mnemo::write {
namespace {

struct Span {
  size_t begin = 0, end = 0;
  std::string_view kind;
};

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsTokenChar(char c) { return IsAlnum(c) || c == '_' || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A token that starts where no token character precedes it.
bool AtBoundary(std::string_view text, size_t pos) {
  return pos == 0 || !IsTokenChar(text[pos - 1]);
}

size_t TokenEnd(std::string_view text, size_t pos) {
  while (pos < text.size() && IsTokenChar(text[pos])) ++pos;
  return pos;
}

struct Prefix {
  std::string_view prefix;
  size_t min_body;  // token characters after the prefix
  std::string_view kind;
};

// Longer prefixes first where one extends another (sk-ant- before sk-).
constexpr Prefix kPrefixes[] = {
    {"github_pat_", 20, "github token"}, {"ghp_", 20, "github token"},
    {"gho_", 20, "github token"},        {"ghu_", 20, "github token"},
    {"ghs_", 20, "github token"},        {"ghr_", 20, "github token"},
    {"glpat-", 20, "gitlab token"},      {"sk-ant-", 20, "anthropic key"},
    {"sk-proj-", 20, "openai key"},      {"sk-", 20, "api key"},
    {"sk_live_", 16, "stripe key"},      {"rk_live_", 16, "stripe key"},
    {"sk_test_", 16, "stripe key"},      {"AKIA", 16, "aws access key"},
    {"ASIA", 16, "aws access key"},      {"xoxb-", 10, "slack token"},
    {"xoxp-", 10, "slack token"},        {"xoxa-", 10, "slack token"},
    {"xoxr-", 10, "slack token"},        {"xoxs-", 10, "slack token"},
    {"AIza", 30, "google api key"},      {"mnemo_", 70, "mnemo key"},
};

void FindPrefixed(std::string_view text, std::vector<Span>* out) {
  for (const Prefix& p : kPrefixes) {
    for (size_t at = text.find(p.prefix); at != std::string_view::npos;
         at = text.find(p.prefix, at + 1)) {
      if (!AtBoundary(text, at)) continue;
      const size_t end = TokenEnd(text, at + p.prefix.size());
      if (end - at - p.prefix.size() >= p.min_body) out->push_back({at, end, p.kind});
    }
  }
}

// header.payload.signature, each base64url: a JSON web token.
void FindJwts(std::string_view text, std::vector<Span>* out) {
  for (size_t at = text.find("eyJ"); at != std::string_view::npos; at = text.find("eyJ", at + 1)) {
    if (!AtBoundary(text, at)) continue;
    size_t pos = at;
    int parts = 0;
    for (; parts < 3; ++parts) {
      size_t end = pos;
      while (end < text.size() && (IsAlnum(text[end]) || text[end] == '_' || text[end] == '-')) {
        ++end;
      }
      if (end - pos < 8) break;
      pos = end;
      if (parts < 2) {
        if (pos >= text.size() || text[pos] != '.') break;
        ++pos;
      }
    }
    if (parts == 3) out->push_back({at, pos, "json web token"});
  }
}

void FindPrivateKeys(std::string_view text, std::vector<Span>* out) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  for (size_t at = text.find(kBegin); at != std::string_view::npos;
       at = text.find(kBegin, at + 1)) {
    const size_t line_end = text.find("-----", at + kBegin.size());
    if (line_end == std::string_view::npos) return;
    const std::string_view label = text.substr(at + kBegin.size(), line_end - at - kBegin.size());
    if (label.find("PRIVATE KEY") == std::string_view::npos) continue;
    size_t end = text.size();
    if (size_t close = text.find("-----END ", line_end); close != std::string_view::npos) {
      const size_t dashes = text.find("-----", close + 9);
      end = dashes == std::string_view::npos ? text.size() : dashes + 5;
    }
    out->push_back({at, end, "private key"});
  }
}

// --- "password is ..." ----------------------------------------------------------------------

enum class ValueRule { kAny, kDigits, kCredential };

struct Keyword {
  std::string_view word;  // lower case
  std::string_view kind;
  ValueRule rule;
};

constexpr Keyword kKeywords[] = {
    {"password", "password", ValueRule::kAny},
    {"passcode", "passcode", ValueRule::kAny},
    {"passwd", "password", ValueRule::kAny},
    {"passphrase", "passphrase", ValueRule::kAny},
    {"pin code", "pin", ValueRule::kDigits},
    {"pin", "pin", ValueRule::kDigits},
    {"api key", "api key", ValueRule::kCredential},
    {"api_key", "api key", ValueRule::kCredential},
    {"apikey", "api key", ValueRule::kCredential},
    {"access token", "token", ValueRule::kCredential},
    {"auth token", "token", ValueRule::kCredential},
    {"token", "token", ValueRule::kCredential},
    {"secret", "secret", ValueRule::kCredential},
};

bool StartsWith(std::string_view s, size_t pos, std::string_view word) {
  return s.size() >= pos + word.size() && s.compare(pos, word.size(), word) == 0;
}

size_t SkipSpaces(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
  return pos;
}

bool ValueFits(std::string_view v, ValueRule rule) {
  switch (rule) {
    case ValueRule::kAny:
      return v.size() >= 3;
    case ValueRule::kDigits:
      return v.size() >= 4 && v.size() <= 12 && std::all_of(v.begin(), v.end(), IsDigit);
    case ValueRule::kCredential: {
      // A word of prose ("the secret is out") is no credential: ask for length and a digit,
      // a mix of cases or a separator.
      if (v.size() < 8) return false;
      bool digit = false, upper = false, lower = false, sep = false;
      for (char c : v) {
        digit = digit || IsDigit(c);
        upper = upper || std::isupper(static_cast<unsigned char>(c));
        lower = lower || std::islower(static_cast<unsigned char>(c));
        sep = sep || c == '_' || c == '-';
      }
      return digit || (upper && lower) || sep;
    }
  }
  return false;
}

void FindIntroduced(std::string_view text, std::vector<Span>* out) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Keyword& k : kKeywords) {
    for (size_t at = lower.find(k.word); at != std::string::npos; at = lower.find(k.word, at + 1)) {
      const size_t after = at + k.word.size();
      if ((at > 0 && IsAlnum(lower[at - 1])) || (after < lower.size() && IsAlnum(lower[after]))) {
        continue;
      }
      size_t pos = SkipSpaces(lower, after);
      bool introduced = false;
      for (std::string_view sep : {"is:", "is", "was", ":", "=", "->"}) {
        if (StartsWith(lower, pos, sep) && (sep.back() != 's' || pos + sep.size() >= lower.size() ||
                                            !IsAlnum(lower[pos + sep.size()]))) {
          pos = SkipSpaces(lower, pos + sep.size());
          introduced = true;
          break;
        }
      }
      // "PIN 4471": digits right after the keyword.
      if (!introduced &&
          !(k.rule == ValueRule::kDigits && pos < lower.size() && IsDigit(lower[pos]))) {
        continue;
      }
      if (pos < text.size() && (text[pos] == '"' || text[pos] == '\'' || text[pos] == '`')) ++pos;
      size_t end = pos;
      while (end < text.size() && !IsSpace(text[end])) ++end;
      // Sentence punctuation and closing quotes are not part of the value.
      while (end > pos &&
             std::string_view(".,;!?\"'`)").find(text[end - 1]) != std::string_view::npos) {
        --end;
      }
      if (ValueFits(text.substr(pos, end - pos), k.rule)) out->push_back({pos, end, k.kind});
    }
  }
}

// --- card numbers -----------------------------------------------------------------------

bool Luhn(const std::string& digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool CardPrefix(const std::string& d) {
  auto num = [&](size_t n) { return std::stoi(d.substr(0, n)); };
  if (d[0] == '4') return true;                       // Visa
  if (num(2) >= 51 && num(2) <= 55) return true;      // Mastercard
  if (num(4) >= 2221 && num(4) <= 2720) return true;  // Mastercard 2-series
  if (num(2) == 34 || num(2) == 37) return true;      // American Express
  if (num(4) == 6011 || num(2) == 65 || (num(3) >= 644 && num(3) <= 649)) return true;
  return num(2) == 35 || num(2) == 36 || num(2) == 38 || num(2) == 30;  // JCB, Diners
}

void FindCards(std::string_view text, std::vector<Span>* out) {
  for (size_t at = 0; at < text.size(); ++at) {
    if (!IsDigit(text[at]) || (at > 0 && (IsAlnum(text[at - 1]) || text[at - 1] == '-'))) continue;
    std::string digits;
    size_t end = at, last_digit = at;
    while (end < text.size() && digits.size() <= 19) {
      if (IsDigit(text[end])) {
        digits += text[end];
        last_digit = ++end;
      } else if ((text[end] == ' ' || text[end] == '-') && end + 1 < text.size() &&
                 IsDigit(text[end + 1])) {
        ++end;
      } else {
        break;
      }
    }
    const bool bounded = last_digit >= text.size() || !IsAlnum(text[last_digit]);
    if (bounded && digits.size() >= 13 && digits.size() <= 19 && CardPrefix(digits) &&
        Luhn(digits)) {
      out->push_back({at, last_digit, "card number"});
    }
    at = last_digit > at ? last_digit - 1 : at;
  }
}

}  // namespace

MaskedText MaskSecrets(std::string_view text) {
  std::vector<Span> spans;
  FindPrefixed(text, &spans);
  FindJwts(text, &spans);
  FindPrivateKeys(text, &spans);
  FindIntroduced(text, &spans);
  FindCards(text, &spans);
  MaskedText out;
  if (spans.empty()) {
    out.text = std::string(text);
    return out;
  }
  // Earliest first, the longest of those starting together; overlaps keep the first.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  size_t copied = 0;
  for (const Span& s : spans) {
    if (s.begin < copied || s.end <= s.begin) continue;
    out.text.append(text.substr(copied, s.begin - copied));
    out.secrets.push_back(
        {std::string(s.kind), std::string(text.substr(s.begin, s.end - s.begin))});
    out.text += "[secret " + std::to_string(out.secrets.size()) + ": " + std::string(s.kind) + "]";
    copied = s.end;
  }
  out.text.append(text.substr(copied));
  return out;
}

std::string RevealSecrets(std::string_view masked, const std::vector<HiddenSecret>& secrets) {
  std::string out(masked);
  for (size_t i = 0; i < secrets.size(); ++i) {
    const std::string placeholder =
        "[secret " + std::to_string(i + 1) + ": " + secrets[i].kind + "]";
    if (size_t at = out.find(placeholder); at != std::string::npos) {
      out.replace(at, placeholder.size(), secrets[i].value);
    }
  }
  return out;
}

}  // namespace mnemo::write
