#include "write/sensitivity.h"

#include <array>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

namespace mnemo::write {
namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::vector<std::string> Words(std::string_view t) {
  std::vector<std::string> out;
  for (size_t i = 0; i < t.size();) {
    if (!IsWordChar(t[i])) {
      ++i;
      continue;
    }
    std::string w;
    while (i < t.size() &&
           (IsWordChar(t[i]) || (t[i] == '-' && i + 1 < t.size() && IsWordChar(t[i + 1])))) {
      const char c = t[i++];
      w.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    while (w.size() > 2 && w.ends_with("'s")) w.resize(w.size() - 2);
    out.push_back(std::move(w));
  }
  return out;
}

struct Rule {
  Label label;
  std::string_view phrases;  // '|'-separated; a phrase is one or more words
};

// One list per label; a phrase of several words matches them in a row.
constexpr std::array<Rule, 8> kRules = {{
    {Label::kHealth,
     "diagnosed|diagnosis|allergic|allergy|allergies|asthma|diabetes|diabetic|cancer|tumor|"
     "tumour|chemo|chemotherapy|depression|anxiety disorder|adhd|autism|autistic|bipolar|"
     "schizophrenia|ptsd|ocd|pregnant|pregnancy|miscarriage|therapist|therapy|psychiatrist|"
     "psychologist|medication|medications|prescription|prescribed|antidepressant|"
     "antidepressants|insulin|surgery|hospital|hospitalized|hospitalised|illness|disease|hiv|"
     "symptoms|migraine|migraines|epilepsy|seizure|seizures|arthritis|covid|disability|"
     "disabled|wheelchair|blood pressure|cholesterol|blood type|rehab|addiction|alcoholic|"
     "sobriety|dementia|alzheimer|heart attack|ivf|infertility|menopause|eating disorder|"
     "anorexia|bulimia|mental health|panic attacks|insomnia|doctor|physiotherapy|"
     "chronic pain|concussion|fracture|injury|injured|celiac|coeliac|lactose intolerant"},
    {Label::kSexuality,
     "gay|lesbian|bisexual|transgender|queer|lgbt|lgbtq|homosexual|heterosexual|asexual|"
     "pansexual|non-binary|nonbinary|sexual orientation|sex life|came out|coming out|"
     "same-sex|sexuality"},
    {Label::kReligion,
     "christian|christianity|muslim|islam|islamic|jewish|judaism|hindu|hinduism|buddhist|"
     "buddhism|sikh|atheist|agnostic|catholic|protestant|mormon|evangelical|church|mosque|"
     "synagogue|pray|praying|prayer|prayers|bible|quran|koran|torah|ramadan|kosher|halal|"
     "baptized|baptised|baptism|bar mitzvah|bat mitzvah|religious|religion|rabbi|imam|"
     "priest|pastor|my faith"},
    {Label::kPolitics,
     "democrat|democrats|democratic party|republican|republicans|gop|labour party|tory|"
     "tories|conservative party|liberal party|socialist|communist|libertarian|green party|"
     "voted for|vote for|voting for|i voted|election|ballot|political|politics|protest|"
     "protested|activist|union member|trade union|left-wing|right-wing|party member"},
    {Label::kEthnicity,
     "ethnicity|ethnic|racial|hispanic|latino|latina|latinx|caucasian|indigenous|aboriginal|"
     "african american|african-american|native american|first nations|asian american|"
     "mixed race|biracial|my heritage|my race|immigrant|undocumented|refugee|asylum"},
    {Label::kFinance,
     "salary|salaries|income|paycheck|payslip|wage|wages|debt|debts|loan|loans|mortgage|"
     "credit score|credit card|bankrupt|bankruptcy|savings|net worth|investment|investments|"
     "portfolio|stocks|401k|pension|taxes|tax return|overdraft|bank account|account number|"
     "iban|routing number|owe|owes|i earn|raise at work|bonus"},
    {Label::kLocation, "i live at|my address|home address|my address is|lives at"},
    {Label::kIdentity,
     "social security|ssn|passport number|passport no|driver's license|drivers license|"
     "driving licence|driving license|national insurance|tax id|national id|id number|"
     "nhs number|identity card|personal number"},
}};

struct Phrase {
  std::vector<std::string> words;
  Label label;
};

// Phrases by their first word.
const std::unordered_map<std::string, std::vector<Phrase>>& Index() {
  static const auto kIndex = [] {
    std::unordered_map<std::string, std::vector<Phrase>> index;
    for (const Rule& r : kRules) {
      std::string_view rest = r.phrases;
      while (!rest.empty()) {
        const size_t bar = rest.find('|');
        const std::string_view phrase = rest.substr(0, bar);
        rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
        Phrase p{Words(phrase), r.label};
        if (!p.words.empty()) index[p.words[0]].push_back(std::move(p));
      }
    }
    return index;
  }();
  return kIndex;
}

// Street words after a house number ("12 Elm Street", "4 rue des Lilas").
bool StreetWord(const std::string& w) {
  static constexpr std::array<std::string_view, 30> kStreets = {
      "street",  "st",       "avenue",    "ave",     "road",    "rd",     "lane", "ln",
      "drive",   "dr",       "boulevard", "blvd",    "court",   "ct",     "way",  "place",
      "terrace", "crescent", "close",     "highway", "parkway", "square", "rue",  "calle",
      "via",     "strasse",  "straße",    "avenida", "allee",   "gasse"};
  for (std::string_view s : kStreets) {
    if (w == s) return true;
  }
  return false;
}

bool AllDigits(const std::string& w) {
  if (w.empty() || w.size() > 5) return false;
  for (char c : w) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// "12 Elm Street", "221b Baker Street", "4 rue des Lilas".
bool StreetAddress(const std::vector<std::string>& words) {
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    std::string n = words[i];
    if (!n.empty() && n.back() >= 'a' && n.back() <= 'z' && n.size() > 1) n.pop_back();  // 221b
    if (!AllDigits(n)) continue;
    for (size_t j = i + 1; j < words.size() && j <= i + 4; ++j) {
      if (StreetWord(words[j]) && j > i + 1) return true;
      if (StreetWord(words[j]) &&
          (words[j] == "rue" || words[j] == "calle" || words[j] == "via" || words[j] == "avenida"))
        return true;
    }
  }
  return false;
}

// A decimal number at t[i] (an optional '-', digits, '.', at least three decimals);
// returns its end, or npos.
size_t Decimal(std::string_view t, size_t i, double* value) {
  const size_t start = i;
  if (i < t.size() && t[i] == '-') ++i;
  const size_t int_start = i;
  while (i < t.size() && IsDigit(t[i])) ++i;
  if (i == int_start || i - int_start > 3 || i >= t.size() || t[i] != '.')
    return std::string_view::npos;
  const size_t frac_start = ++i;
  while (i < t.size() && IsDigit(t[i])) ++i;
  if (i - frac_start < 3) return std::string_view::npos;
  *value = std::strtod(std::string(t.substr(start, i - start)).c_str(), nullptr);
  return i;
}

// Coordinates: a latitude and a longitude, each with at least three decimals, separated
// by a comma or spaces ("48.8584, 2.2945").
bool Coordinates(std::string_view t) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (!(IsDigit(t[i]) || t[i] == '-') || (i > 0 && (IsDigit(t[i - 1]) || t[i - 1] == '.')))
      continue;
    double lat = 0, lon = 0;
    size_t end = Decimal(t, i, &lat);
    if (end == std::string_view::npos) continue;
    size_t k = end;
    while (k < t.size() && (t[k] == ',' || t[k] == ' ') && k - end < 3) ++k;
    if (k == end || Decimal(t, k, &lon) == std::string_view::npos) continue;
    if (lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) return true;
  }
  return false;
}

// A US social security number's shape: 3-2-4 digits.
bool SsnShape(std::string_view t) {
  for (size_t i = 0; i + 11 <= t.size(); ++i) {
    if (i > 0 && IsDigit(t[i - 1])) continue;
    const std::string_view s = t.substr(i, 11);
    bool ok = s[3] == '-' && s[6] == '-';
    for (size_t k : {0, 1, 2, 4, 5, 7, 8, 9, 10}) ok = ok && IsDigit(s[k]);
    if (ok && (i + 11 == t.size() || !IsDigit(t[i + 11]))) return true;
  }
  return false;
}

}  // namespace

LabelSet FindLabels(std::string_view text) {
  LabelSet out = 0;
  const std::vector<std::string> words = Words(text);
  const auto& index = Index();
  for (size_t i = 0; i < words.size(); ++i) {
    auto it = index.find(words[i]);
    if (it == index.end()) continue;
    for (const Phrase& p : it->second) {
      if (out & LabelBit(p.label)) continue;
      bool match = i + p.words.size() <= words.size();
      for (size_t k = 1; match && k < p.words.size(); ++k) match = words[i + k] == p.words[k];
      if (match) out |= LabelBit(p.label);
    }
  }
  if (!(out & LabelBit(Label::kLocation)) && (StreetAddress(words) || Coordinates(text))) {
    out |= LabelBit(Label::kLocation);
  }
  if (!(out & LabelBit(Label::kIdentity)) && SsnShape(text)) out |= LabelBit(Label::kIdentity);
  return out;
}

}  // namespace mnemo::write
