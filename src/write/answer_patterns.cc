// Answers to the assistant's questions: "Where do you live?" - "Gothenburg.", "What's your
// favorite color?" - "Green. Always has been", "Do you like horror movies?" - "Nope, too
// scary". A short reply right after a question about the user takes the slot the question
// asked for. Narrow on purpose: the reply must be short, not itself a question, and carry
// a value of the right shape (a capitalised place, a month and day, a number).
#include <unordered_set>

#include "text/analyzer.h"
#include "write/rule_patterns.h"

namespace mnemo::write::internal {
namespace {

using Set = std::unordered_set<std::string_view>;

bool Has(const std::vector<Word>& ws, std::string_view w) {
  for (const Word& x : ws) {
    if (x.lower == w) return true;
  }
  return false;
}

// Index of the word sequence `seq` in ws, or npos.
size_t Find(const std::vector<Word>& ws, std::initializer_list<std::string_view> seq) {
  for (size_t k = 0; k + seq.size() <= ws.size(); ++k) {
    size_t m = 0;
    for (std::string_view w : seq) {
      if (ws[k + m].lower != w) break;
      ++m;
    }
    if (m == seq.size()) return k;
  }
  return std::string::npos;
}

// The first capitalised run of the reply (not its first word when that is a filler).
Phrase Capitalised(const std::vector<Word>& ws) {
  static const Set& kSkip =
      *new Set{"yes",  "yeah", "yep", "no",    "nope", "oh",        "well", "ok",
               "okay", "haha", "lol", "still", "now",  "currently", "in",   "from",
               "at",   "for",  "i",   "i'm",   "it's", "its",       "just"};
  for (size_t k = 0; k < ws.size(); ++k) {
    if (ws[k].capitalised && !kSkip.count(ws[k].lower) && !text::IsStopWord(ws[k].lower)) {
      Phrase p;
      p.first = p.last = p.head_last = k;
      while (p.last + 1 < ws.size() && ws[p.last + 1].joined && ws[p.last + 1].capitalised) {
        ++p.last;
      }
      p.head_last = p.last;
      p.ok = true;
      return p;
    }
  }
  return {};
}

// +1 for a reply that agrees or says it likes, -1 for one that refuses, 0 when unclear.
int Polarity(const std::vector<Word>& ws) {
  if (ws.empty()) return 0;
  static const Set& kYes =
      *new Set{"yes",        "yeah",       "yep",     "yup",      "love",  "loved",
               "absolutely", "definitely", "totally", "obsessed", "adore", "sure"};
  static const Set& kNo = *new Set{"no",  "nope", "nah", "hate",  "hated",  "never",
                                   "ugh", "meh",  "not", "can't", "cannot", "dislike"};
  for (size_t k = 0; k < ws.size() && k < 3; ++k) {
    if (kNo.count(ws[k].lower)) return -1;
    if (kYes.count(ws[k].lower)) return 1;
  }
  return 0;
}

// The reply's opening noun phrase ("Green", "Eggplant", "the octopus"): up to four words.
Phrase Opening(const std::vector<Word>& ws) {
  Phrase p;
  if (ws.empty()) return p;
  p.first = 0;
  if ((ws[0].lower == "the" || ws[0].lower == "a" || ws[0].lower == "an") && ws.size() > 1 &&
      ws[1].joined) {
    p.first = 1;
  }
  p.last = p.first;
  while (p.last + 1 < ws.size() && p.last + 1 < p.first + 4 && ws[p.last + 1].joined &&
         !text::IsStopWord(ws[p.last + 1].lower)) {
    ++p.last;
  }
  p.head_last = p.last;
  p.ok = !text::IsStopWord(ws[p.first].lower);
  return p;
}

}  // namespace

void MatchAnswer(std::string_view question, const Clause& reply, std::vector<Candidate>* out) {
  const std::vector<Word>& ws = reply.words;
  if (ws.empty() || ws.size() > 12 || question.find('?') == std::string_view::npos) return;
  // Only the question's last sentence is asked.
  question = question.substr(0, question.rfind('?'));
  if (const size_t end = question.find_last_of(".!?\n"); end != std::string_view::npos) {
    question = question.substr(end + 1);
  }
  const std::vector<Word> q = RuleWords(question);
  const std::string& name = reply.names->display;
  std::string_view sentence = reply.sentence;
  auto add = [&](std::string text, std::string slot, std::string value, int polarity) {
    const Kind kind = slot.starts_with("likes:") ? Kind::kPreference : Kind::kFact;
    out->push_back(
        MakeCandidate(kind, std::move(text), std::move(slot), std::move(value), polarity, 0.6));
  };
  const bool about_you = Has(q, "you") || Has(q, "your") || Has(q, "you're");
  if (!about_you) return;
  // "Where does your sister live?" asks about someone else.
  for (size_t k = 0; k + 1 < q.size(); ++k) {
    if (q[k].lower == "your" &&
        (!RelationOf(q[k + 1].lower).empty() || !SpeciesOf(q[k + 1].lower).empty() ||
         q[k + 1].lower == "friend" || q[k + 1].lower == "partner's")) {
      return;
    }
  }
  // Where: "where do you live", "where are you based", "which city are you in".
  const bool where_live =
      (Has(q, "where") || Has(q, "city")) &&
      (Has(q, "live") || Has(q, "based") || Has(q, "living") ||
       Find(q, {"are", "you", "now"}) != std::string::npos || Has(q, "located"));
  const bool where_from =
      Has(q, "where") && (Has(q, "from") || Find(q, {"grow", "up"}) != std::string::npos);
  if (where_live || where_from) {
    const Phrase p = Capitalised(ws);
    if (!p.ok) return;
    const std::string where = Original(sentence, ws, p.first, p.last);
    add(name + (where_from ? " is from " : " lives in ") + where,
        where_from ? "hometown" : "home_city", NormaliseValue(where), 1);
    return;
  }
  // "What's your favorite color?" - "Green."
  for (size_t k = 0; k + 1 < q.size(); ++k) {
    const std::string& w = q[k].lower;
    if (w != "favorite" && w != "favourite" && w != "fave") continue;
    size_t e = k + 1;
    while (e + 1 < q.size() && e + 1 <= k + 3 && q[e + 1].joined &&
           !text::IsStopWord(q[e + 1].lower)) {
      ++e;
    }
    const std::string category = NormaliseValue(Original(question, q, k + 1, e));
    const Phrase v = Opening(ws);
    if (!v.ok || Polarity(ws) != 0) return;
    const std::string value = HeadValue(sentence, ws, v);
    if (category.empty() || value.empty()) return;
    add(name + "'s favorite " + category + " is " + Original(sentence, ws, v.first, v.head_last),
        "favorite:" + category, value, 1);
    return;
  }
  // "When is your birthday / anniversary?" - "August 9"
  if (Has(q, "birthday") || Has(q, "anniversary")) {
    const std::string day = MonthDay(ws, 0, ws.size() - 1);
    if (day.empty()) return;
    out->push_back(DateFact(name, Has(q, "anniversary") ? "anniversary" : "birthday", day, 0.6));
    return;
  }
  // "How old are you?" - "34"
  if (Find(q, {"how", "old"}) != std::string::npos) {
    for (const Word& w : ws) {
      if (IsNumber(w.lower) && std::stoi(w.lower) >= 10 && std::stoi(w.lower) <= 110) {
        add(name + " is " + w.lower, "age", w.lower, 1);
        return;
      }
    }
    return;
  }
  // "Any foods you don't like?" - "Eggplant."
  if (Find(q, {"you", "don't", "like"}) != std::string::npos || Has(q, "dislike") ||
      Find(q, {"you", "hate"}) != std::string::npos) {
    const Phrase v = Opening(ws);
    if (!v.ok || Polarity(ws) != 0) return;
    const std::string value = HeadValue(sentence, ws, v);
    if (value.empty()) return;
    add(name + " doesn't like " + Original(sentence, ws, v.first, v.head_last), "likes:" + value,
        "", -1);
    return;
  }
  // "Do you like horror movies?" - "Nope, too scary" / "Love them!"
  for (size_t k = 1; k + 1 < q.size(); ++k) {
    const std::string& w = q[k].lower;
    if ((w != "like" && w != "enjoy" && w != "love") || q[k - 1].lower != "you") continue;
    const Phrase obj = ObjectAt(q, k + 1, 4);
    if (!obj.ok || BadObject(q, obj)) return;
    const std::string thing = HeadValue(question, q, obj);
    const int polarity = Polarity(ws);
    if (thing.empty() || polarity == 0) return;
    add(name + (polarity > 0 ? " likes " : " doesn't like ") +
            Original(question, q, obj.first, obj.head_last),
        "likes:" + thing, "", polarity);
    return;
  }
}

}  // namespace mnemo::write::internal
