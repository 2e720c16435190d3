// The profile slot of a statement an agent saves about its user ("Maya is allergic to
// peanuts", "The user prefers dark mode", "sam's favorite color is blue"): the statement
// is put back in the first person ("I am allergic to peanuts") and read by the same rules
// as a conversation turn, so an agent's fact lands in the same slot as the user's own words
// and the profile shows it.
#include <cctype>

#include "write/extract_rules.h"
#include "write/rule_text.h"

namespace mnemo::write {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The first-person form of a third-person verb: "lives" -> "live", "is" -> "am".
std::string FirstPersonVerb(std::string_view w) {
  const std::string l = Lower(w);
  if (l == "is") return "am";
  if (l == "isn't") return "am not";
  if (l == "has") return "have";
  if (l == "hasn't") return "haven't";
  if (l == "does") return "do";
  if (l == "doesn't") return "don't";
  if (l == "was" || l == "wasn't" || l.size() < 3 || l.back() != 's' || l.ends_with("ss")) {
    return std::string(w);
  }
  if (l.ends_with("ies")) return l.substr(0, l.size() - 3) + "y";
  for (std::string_view es : {"ches", "shes", "sses", "xes", "zes", "oes"}) {
    if (l.ends_with(es)) return l.substr(0, l.size() - 2);
  }
  return l.substr(0, l.size() - 1);
}

bool Adverb(std::string_view lower) {
  return lower == "really" || lower == "also" || lower == "still" || lower == "now" ||
         lower == "currently" || lower == "absolutely" || lower == "always" || lower == "never" ||
         lower == "truly" || lower == "definitely" || lower == "no" || lower == "longer";
}

}  // namespace

std::optional<Candidate> SlotOfStatement(std::string_view text, std::string_view user,
                                         std::string_view speaker) {
  const std::vector<internal::Word> ws = internal::RuleWords(text);
  if (ws.size() < 2 || ws.size() > 40) return std::nullopt;
  // The subject: the user id, the speaker, "the user", or a name that starts the text.
  size_t n = 0;  // words of the subject
  const auto matches = [&](std::string_view name) {
    const std::vector<internal::Word> nw = internal::RuleWords(name);
    if (nw.empty() || nw.size() > ws.size() - 1) return false;
    for (size_t k = 0; k < nw.size(); ++k) {
      if (ws[k].lower != nw[k].lower) return false;
    }
    n = nw.size();
    return true;
  };
  const bool known = matches(user) || (!speaker.empty() && matches(speaker)) ||
                     matches("the user") || matches("user");
  if (!known) {
    if (!ws[0].capitalised || ws[0].lower == "i" || ws[0].lower == "my") return std::nullopt;
    n = 1;
  }
  const internal::Word& last = ws[n - 1];
  std::string first_person;
  size_t rest = last.end;
  if (last.possessive) {
    first_person = "My";
    rest = last.end + 2;  // past "'s"
  } else {
    first_person = "I";
    size_t v = n;
    while (v < ws.size() && Adverb(ws[v].lower)) {
      first_person += " " + std::string(text.substr(ws[v].begin, ws[v].end - ws[v].begin));
      ++v;
    }
    if (v >= ws.size()) return std::nullopt;
    first_person += " " + FirstPersonVerb(text.substr(ws[v].begin, ws[v].end - ws[v].begin));
    rest = ws[v].end;
  }
  Turn turn;
  turn.role = "user";
  turn.speaker = std::string(speaker);
  turn.user = std::string(user);
  turn.text = first_person + std::string(text.substr(std::min(rest, text.size())));
  for (Candidate& c : ExtractFromTurn(turn)) {
    if (c.slot.empty()) continue;
    NormaliseSlotValue(&c);
    return c;
  }
  return std::nullopt;
}

}  // namespace mnemo::write
