// First-person patterns over lower-cased words. Each rule starts at a subject word ("i",
// "i'm", "my") and reads forward; "joined" checks keep a pattern inside one clause, since a
// comma or a dash between two words means they do not belong to the same phrase.
#include "write/rule_patterns.h"

#include <unordered_set>

#include "text/analyzer.h"

namespace mnemo::write::internal {
namespace {

using Set = std::unordered_set<std::string_view>;

bool In(const Set& set, std::string_view w) { return set.count(w) > 0; }

const Set kAdverbs = {"really",  "absolutely", "totally",   "just",       "also",       "still",
                      "truly",   "definitely", "actually",  "honestly",   "genuinely",  "seriously",
                      "do",      "now",        "currently", "recently",   "originally", "finally",
                      "already", "simply",     "kinda",     "personally", "always",     "usually",
                      "often",   "sometimes",  "totally",   "deeply",     "especially", "even"};
// Words that end an object phrase: conjunctions and relative pronouns start a new clause.
const Set kClauseEnd = {"but",   "because", "cause",     "cuz",      "so",    "when",
                        "since", "while",   "though",    "although", "as",    "if",
                        "which", "that",    "who",       "whenever", "where", "whereas",
                        "until", "unless",  "especially"};
// Prepositions after the head of an object: "hiking with my dog" has the head "hiking".
const Set kHeadEnd = {"with",      "in",     "at",      "on",     "during", "from", "every",
                      "each",      "after",  "before",  "around", "near",   "by",   "for",
                      "to",        "over",   "than",    "last",   "this",   "next", "today",
                      "yesterday", "lately", "anymore", "too",    "now",    "more", "most"};
const Set kPronounObjects = {"it",        "that",     "this",    "them",    "him",    "her",
                             "you",       "those",    "these",   "what",    "how",    "when",
                             "where",     "why",      "which",   "who",     "all",    "everything",
                             "something", "anything", "nothing", "hearing", "seeing", "knowing",
                             "u",         "ya",       "yours",   "your"};
const Set kPronounsAnywhere = {"you", "your", "yours", "u", "ya", "y'all", "you're"};
const Set kHedges = {"if",     "unless",  "whether", "wish",      "suppose", "supposing", "sure",
                     "unsure", "imagine", "hope",    "hopefully", "maybe",   "perhaps",   "wonder"};
const Set kIrregularPast = {
    "went",   "had",        "did",    "was",     "were", "got",   "made",   "saw",    "took",
    "came",   "found",      "felt",   "thought", "told", "said",  "left",   "met",    "ran",
    "bought", "brought",    "gave",   "began",   "knew", "wrote", "put",    "heard",  "kept",
    "sat",    "won",        "lost",   "spent",   "sent", "built", "taught", "caught", "drove",
    "ate",    "drank",      "swam",   "sang",    "flew", "grew",  "drew",   "wore",   "chose",
    "spoke",  "broke",      "rode",   "fell",    "held", "led",   "paid",   "meant",  "slept",
    "stood",  "understood", "became", "forgot",  "been", "read",  "cut",    "let",    "set",
    "hit",    "hurt",       "quit"};
const Set kModals = {"will",     "would",     "can",     "could",  "should", "might",
                     "must",     "may",       "shall",   "can't",  "won't",  "wouldn't",
                     "couldn't", "shouldn't", "didn't",  "wasn't", "cannot", "gotta",
                     "used",     "need",      "haven't", "hadn't", "mustn't"};
const Set kProfessions = {
    "teacher",      "nurse",       "doctor",       "engineer",    "developer",    "programmer",
    "designer",     "artist",      "painter",      "writer",      "author",       "musician",
    "singer",       "dancer",      "chef",         "cook",        "lawyer",       "accountant",
    "student",      "counselor",   "counsellor",   "therapist",   "psychologist", "scientist",
    "researcher",   "professor",   "pharmacist",   "dentist",     "architect",    "photographer",
    "journalist",   "firefighter", "officer",      "pilot",       "mechanic",     "electrician",
    "plumber",      "carpenter",   "farmer",       "barista",     "waiter",       "waitress",
    "cashier",      "librarian",   "manager",      "consultant",  "analyst",      "entrepreneur",
    "veterinarian", "vet",         "paramedic",    "worker",      "coach",        "trainer",
    "translator",   "actor",       "actress",      "filmmaker",   "producer",     "editor",
    "surgeon",      "physician",   "nanny",        "tutor",       "professional", "firefighter",
    "baker",        "bartender",   "driver",       "soldier",     "veteran",      "economist",
    "illustrator",  "copywriter",  "hygienist",    "ranger",      "paralegal",    "receptionist",
    "technician",   "freelancer",  "recruiter",    "realtor",     "bookkeeper",   "caregiver",
    "midwife",      "optometrist", "lecturer",     "principal",   "secretary",    "banker",
    "auditor",      "actuary",     "statistician", "biologist",   "chemist",      "physicist",
    "curator",      "composer",    "stylist",      "hairdresser", "barber",       "florist",
    "gardener",     "surveyor",    "inspector",    "supervisor",  "coordinator",  "specialist",
    "marketer",     "salesperson", "founder",      "ceo",         "cto",          "intern"};
const Set kDiets = {"vegetarian", "vegan", "pescatarian", "pescetarian"};

}  // namespace

Candidate MakeCandidate(Kind kind, std::string text, std::string slot, std::string value,
                        int polarity, double confidence) {
  Candidate c;
  c.kind = kind;
  c.text = std::move(text);
  c.slot = std::move(slot);
  c.value = std::move(value);
  c.polarity = polarity;
  c.confidence = confidence;
  return c;
}

std::vector<std::string> SplitAnd(const std::string& value) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t at; (at = value.find(" and ", from)) != std::string::npos; from = at + 5) {
    out.push_back(value.substr(from, at - from));
  }
  out.push_back(value.substr(from));
  for (const std::string& one : out) {
    if (one.empty() || one.find(' ') != std::string::npos) return {value};  // "mac and cheese"
  }
  return out;
}

bool IsNumber(std::string_view w) {
  if (w.empty() || w.size() > 3) return false;
  for (char c : w) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The word at k continues the clause (only spaces before it) and is `w`.
bool At(const std::vector<Word>& ws, size_t k, std::string_view w) {
  return k < ws.size() && ws[k].joined && ws[k].lower == w;
}

std::string Original(std::string_view s, const std::vector<Word>& ws, size_t first, size_t last) {
  return std::string(s.substr(ws[first].begin, ws[last].end - ws[first].begin));
}

std::string Conjugate(std::string_view verb) {
  if (verb == "am" || verb == "be") return "is";
  if (verb == "have") return "has";
  if (verb == "do") return "does";
  if (verb == "don't") return "doesn't";
  if (verb == "haven't") return "hasn't";
  if (verb == "are") return "is";
  std::string v(verb);
  auto ends = [&](std::string_view suffix) {
    return v.size() >= suffix.size() &&
           v.compare(v.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends("s") || ends("sh") || ends("ch") || ends("x") || ends("z") || ends("o")) return v + "es";
  if (v.size() >= 2 && v.back() == 'y' && v[v.size() - 2] != 'a' && v[v.size() - 2] != 'e' &&
      v[v.size() - 2] != 'o' && v[v.size() - 2] != 'u') {
    return v.substr(0, v.size() - 1) + "ies";
  }
  return v + "s";
}

bool IsPastOrModal(std::string_view w) {
  return In(kIrregularPast, w) || In(kModals, w) ||
         (w.size() > 4 && w.starts_with("re") && In(kIrregularPast, w.substr(2))) ||
         (w.size() > 3 && w.compare(w.size() - 2, 2, "ed") == 0) ||
         (w.size() > 3 && w.compare(w.size() - 3, 3, "n't") == 0 && w != "don't");
}

// True when a hedge ("if", "wish", "hope") precedes word k in its clause, or when k starts
// an embedded clause: "what I like to hear", "the things I love make ..." (a content word
// right before the subject means the subject belongs to a relative clause).
bool Hedged(const std::vector<Word>& ws, size_t k) {
  if (k > 0 && ws[k].joined) {
    const std::string& before = ws[k - 1].lower;
    if (before == "what" || before == "that" || before == "which" || before == "how" ||
        before == "who" || before == "thing" || before == "things" || before == "stuff") {
      return true;
    }
    const bool adverb = In(kAdverbs, before) ||
                        (before.size() > 3 && before.compare(before.size() - 2, 2, "ly") == 0);
    static const Set& kMarkers =
        *new Set{"ngl",  "tbh",    "btw",  "lol",  "lmao",    "haha", "okay", "update",
                 "news", "imo",    "fwiw", "nah",  "nope",    "ugh",  "hmm",  "confession",
                 "yup",  "anyway", "plus", "welp", "anyways", "sooo", "omg",  "guess"};
    if (!ws[k - 1].capitalised && !text::IsStopWord(before) && !IsFiller(before) && !adverb &&
        !In(kMarkers, before)) {
      return true;
    }
  }
  for (size_t m = k; m-- > 0;) {
    if (In(kHedges, ws[m].lower)) return true;
    if (!ws[m + 1].joined) break;
  }
  return false;
}

Modifiers ReadModifiers(std::string_view s, const std::vector<Word>& ws, size_t k) {
  Modifiers m;
  while (k < ws.size() && ws[k].joined) {
    const std::string& w = ws[k].lower;
    if (w == "don't" || w == "dont" || w == "not") {
      m.negation = "don't";
    } else if (w == "do" && At(ws, k + 1, "not")) {
      m.negation = "don't";
      ++k;
    } else if ((w == "kind" || w == "sort") && At(ws, k + 1, "of")) {
      m.adverbs += Original(s, ws, k, k + 1) + " ";
      ++k;
    } else if (w == "no" && At(ws, k + 1, "longer")) {
      m.negation = "no longer";
      ++k;
    } else if (w == "never") {
      m.negation = "never";
      m.always = true;
    } else if (In(kAdverbs, w)) {
      m.always |= w == "always";
      if (w != "do") m.adverbs += Original(s, ws, k, k) + " ";
    } else {
      break;
    }
    ++k;
  }
  m.next = k;
  return m;
}

// The object phrase starting at word j: up to the end of the clause, at most `max` words.
Phrase ObjectAt(const std::vector<Word>& ws, size_t j, size_t max) {
  Phrase p;
  if (j >= ws.size() || !ws[j].joined) return p;
  p.first = j;
  p.last = j;
  p.head_last = j;
  bool head_open = true;
  for (size_t m = j; m < ws.size() && m - j < max; ++m) {
    const std::string& w = ws[m].lower;
    if (m > j && !ws[m].joined) break;
    if (In(kClauseEnd, w)) break;
    if (w == "and" && m + 1 < ws.size() &&
        (In(kPronounObjects, ws[m + 1].lower) || ws[m + 1].lower == "i" ||
         ws[m + 1].lower.rfind("i'", 0) == 0 || ws[m + 1].lower == "we" ||
         ws[m + 1].lower == "then")) {
      break;
    }
    if (m > j && In(kHeadEnd, w)) head_open = false;
    p.last = m;
    if (head_open) p.head_last = m;
    if (ws[m].possessive && m + 1 < ws.size() && !ws[m + 1].joined) break;
  }
  // A phrase does not end on a dangling function word ("hiking and").
  while (p.last > p.first && text::IsStopWord(ws[p.last].lower)) --p.last;
  if (p.head_last > p.last) p.head_last = p.last;
  p.ok = true;
  return p;
}

// True if the object is about the listener, someone else's ("his tech"), a bare pronoun
// ("I love it", "making this") or not a noun phrase at all ("something I love is great").
bool BadObject(const std::vector<Word>& ws, const Phrase& p) {
  static const Set& kOpeners =
      *new Set{"a", "an", "the", "to", "some", "my", "our", "not", "being"};
  static const Set& kHeadPronouns =
      *new Set{"it", "this", "that", "them", "these", "those", "him", "her", "his", "their", "its"};
  if (!p.ok || In(kPronounObjects, ws[p.first].lower)) return true;
  const std::string& first = ws[p.first].lower;
  if ((text::IsStopWord(first) && !In(kOpeners, first)) || first == "every" || first == "way") {
    return true;
  }
  if (p.first + 1 <= p.last && In(kOpeners, first) && ws[p.first + 1].lower == "way") return true;
  // "making this", "holding them": the real object is elsewhere in the conversation.
  if (p.first + 1 < ws.size() && ws[p.first + 1].joined &&
      In(kHeadPronouns, ws[p.first + 1].lower)) {
    return true;
  }
  for (size_t m = p.first; m <= p.last; ++m) {
    if (In(kPronounsAnywhere, ws[m].lower)) return true;
  }
  // "I like to tease him": the object is a person, not a thing liked.
  for (size_t m = p.first + 1; m < ws.size() && m <= p.first + 2 && ws[m].joined; ++m) {
    const std::string& w = ws[m].lower;
    if (w == "him" || w == "her" || w == "them" || w == "it") return true;
  }
  // "I really like my manager", "I love my wife": people are not preferences.
  static const Set& kPeople = *new Set{
      "manager",  "boss",     "coworker",  "coworkers",  "colleague",  "colleagues", "friend",
      "friends",  "neighbor", "neighbour", "neighbors",  "neighbours", "roommate",   "team",
      "landlord", "teacher",  "teachers",  "family",     "parents",    "kids",       "husband",
      "wife",     "partner",  "boyfriend", "girlfriend", "son",        "daughter",   "mom",
      "dad",      "mum",      "brother",   "sister",     "children",   "therapist",  "doctor"};
  const std::string& head = ws[p.head_last].lower;
  if (In(kPeople, head) || !RelationOf(head).empty()) return true;
  return false;
}

// The normalised head of an object, "" when it has no content word ("I love to.").
std::string HeadValue(std::string_view s, const std::vector<Word>& ws, const Phrase& p) {
  size_t first = p.first;
  if (ws[first].lower == "to" && first < p.head_last) ++first;  // "to paint" -> "paint"
  size_t last = p.head_last;
  while (last > first && text::IsStopWord(ws[last].lower)) --last;
  if (text::Terms(Original(s, ws, first, last)).empty()) return "";
  return NormaliseValue(Original(s, ws, first, last));
}

// A capitalised place after "to"/"in"/"from": "Boston", "the UK", "New York City".
Phrase PlaceAt(const std::vector<Word>& ws, size_t j) {
  Phrase p;
  size_t k = j;
  if (At(ws, k, "the")) ++k;
  if (k >= ws.size() || !ws[k].joined || !ws[k].capitalised) return p;
  p.first = j;
  p.last = k;
  // "St Mary's Hospital": a possessive inside a name continues it.
  while (p.last + 1 < ws.size() && ws[p.last + 1].joined && ws[p.last + 1].capitalised) {
    ++p.last;
  }
  p.head_last = p.last;
  p.ok = true;
  return p;
}

namespace {

class Matcher {
 public:
  Matcher(const Clause& c, std::vector<Candidate>* out)
      : c_(c), s_(c.sentence), ws_(c.words), out_(out) {}

  void Run() {
    for (size_t k = 0; k < ws_.size(); ++k) {
      const std::string& w = ws_[k].lower;
      if (w != "i" && w != "i'm" && w != "i've" && w != "my" && w != "we") continue;
      if (Hedged(ws_, k)) continue;
      if (w == "my") {
        MatchMy(k);
      } else if (!MatchI(k) && w == "i") {
        MatchHabit(k);
      }
    }
    MatchImperative();
  }

 private:
  void Add(Kind kind, std::string text, std::string slot, std::string value, int polarity,
           double confidence) {
    out_->push_back(MakeCandidate(kind, std::move(text), std::move(slot), std::move(value),
                                  polarity, confidence));
  }
  const std::string& Name() const { return c_.names->display; }
  // The words first..last in the third person ("my dog" -> "Caroline's dog").
  std::string Text(size_t first, size_t last) const {
    return ToThirdPerson(s_, ws_, first, ws_[last].end, *c_.names);
  }

  bool MatchI(size_t k);
  bool MatchPreference(size_t k, const Modifiers& m, bool perfect = false);
  // `perfect`: after "I've been" ("I've been in Houston since 2015" is where one lives).
  bool MatchBeing(size_t k, bool perfect = false);
  // An object phrase before word v that "it" or "them" at v refers to: "I used to love
  // hiking but I don't like it anymore", "I'm allergic to cats but I love them".
  Phrase Antecedent(size_t v) const;
  bool MatchMy(size_t k);
  void MatchHabit(size_t k);
  void MatchImperative();

  const Clause& c_;
  std::string_view s_;
  const std::vector<Word>& ws_;
  std::vector<Candidate>* out_;
};

Phrase Matcher::Antecedent(size_t v) const {
  static const Set& kVerbs = *new Set{"love", "loved", "like",  "liked",  "enjoy", "enjoyed",
                                      "hate", "hated", "adore", "adored", "into"};
  for (size_t q = 0; q + 1 < v; ++q) {
    const std::string& w = ws_[q].lower;
    const bool verb = In(kVerbs, w) || (w == "to" && q > 0 && ws_[q - 1].lower == "allergic") ||
                      (w == "of" && q > 0 && ws_[q - 1].lower == "fan");
    if (!verb) continue;
    Phrase p = ObjectAt(ws_, q + 1, 4);
    if (!BadObject(ws_, p) && p.last < v) return p;
  }
  return {};
}

bool Matcher::MatchPreference(size_t k, const Modifiers& m, bool perfect) {
  size_t v = m.next;
  if (v >= ws_.size()) return false;
  std::string verb = ws_[v].lower;
  if (perfect) {  // "I've always loved gardening"
    static const Set& kParticiples =
        *new Set{"loved", "liked", "enjoyed", "adored", "hated", "disliked"};
    if (!In(kParticiples, verb)) return false;
    verb.pop_back();
    if (verb.back() != 'e') verb.pop_back();
    if (verb == "lik" || verb == "lov" || verb == "ador" || verb == "hat" || verb == "dislik") {
      verb += 'e';
    }
  }
  int polarity = 0;
  if (verb == "love" || verb == "like" || verb == "enjoy" || verb == "adore" || verb == "prefer") {
    polarity = 1;
  } else if (verb == "hate" || verb == "dislike" || verb == "detest" || verb == "loathe") {
    polarity = -1;
  } else if ((verb == "can't" || verb == "cannot" || verb == "cant") && At(ws_, v + 1, "stand")) {
    polarity = -1;
    ++v;
    verb = "can't stand";
  } else {
    return false;
  }
  if (!m.negation.empty() && (polarity < 0 || verb == "prefer" || m.negation == "never")) {
    return false;  // "don't hate" is not "like"; "never liked" is a past state
  }
  Phrase obj = ObjectAt(ws_, v + 1);
  if (obj.ok && obj.first == obj.head_last &&
      (ws_[obj.first].lower == "it" || ws_[obj.first].lower == "them")) {
    obj = Antecedent(v);
  }
  if (BadObject(ws_, obj)) return false;
  std::string over;
  if (verb == "prefer") {  // "I prefer tea over coffee": the preference is for tea
    for (size_t q = obj.first + 1; q <= obj.last; ++q) {
      const std::string& w = ws_[q].lower;
      if (w == "over" || w == "than" || w == "to") {
        if (q - 1 < obj.head_last) obj.head_last = q - 1;
        break;
      }
    }
  }
  if (!m.negation.empty()) polarity = -polarity;
  std::string verb_text;
  if (m.negation == "don't") {
    verb_text = "doesn't " + verb;
  } else if (m.negation == "no longer") {
    verb_text = "no longer " + Conjugate(verb);
  } else {
    verb_text = verb == "can't stand" ? verb : Conjugate(verb);
  }
  const std::string value = HeadValue(s_, ws_, obj);
  if (value.empty()) return false;
  (void)k;
  Add(Kind::kPreference, Name() + " " + m.adverbs + verb_text + " " + Text(obj.first, obj.last),
      "likes:" + value, "", polarity, 0.75);
  return true;
}

namespace {

const Set& Drinks() {
  static const Set& s = *new Set{"coffee", "caffeine", "alcohol", "booze",  "beer",
                                 "wine",   "soda",     "tea",     "liquor", "spirits"};
  return s;
}

}  // namespace

// "I ..." and "I've ..." patterns; returns true if one matched.
bool Matcher::MatchI(size_t k) {
  const std::string& subject = ws_[k].lower;
  if (subject == "i'm" || (subject == "i" && At(ws_, k + 1, "am"))) {
    return MatchBeing(subject == "i'm" ? k + 1 : k + 2);
  }
  const Modifiers m = ReadModifiers(s_, ws_, k + 1);
  size_t v = m.next;
  if (subject == "i've" || (subject == "i" && At(ws_, v, "have"))) {
    if (subject == "i") v = ReadModifiers(s_, ws_, v + 1).next;
    if (At(ws_, v, "been")) return MatchBeing(v + 1, /*perfect=*/true);
    if (At(ws_, v, "gotten") && At(ws_, ReadModifiers(s_, ws_, v + 1).next, "into")) {
      return MatchBeing(v + 1);  // "I've gotten really into baking"
    }
    Modifiers perfect = m;
    perfect.next = v;
    if (MatchPreference(k, perfect, /*perfect=*/true)) return true;
    if (subject == "i" && !At(ws_, v, "moved") && !At(ws_, v, "lived") && !At(ws_, v, "gone")) {
      return false;
    }
  }
  if (subject == "i" && MatchPreference(k, m)) return true;
  if (v >= ws_.size()) return false;
  const std::string& verb = ws_[v].lower;
  const bool negated = !m.negation.empty();
  // "moved back to", "moved down to": one particle between.
  size_t to = v + 1;
  static const Set& kParticles =
      *new Set{"back", "down", "up", "over", "out", "here", "there", "home", "away"};
  if (verb == "moved" && to < ws_.size() && ws_[to].joined && In(kParticles, ws_[to].lower) &&
      At(ws_, to + 1, "to")) {
    ++to;
  }
  const bool lived = verb == "lived" && (subject == "i've" || subject == "we've" ||
                                         (k + 1 < v && ws_[k + 1].lower == "have"));
  if ((verb == "moved" && At(ws_, to, "to")) ||
      ((verb == "live" || lived) && At(ws_, v + 1, "in"))) {
    const Phrase place = PlaceAt(ws_, to + 1);
    if (!place.ok || (negated && verb == "moved")) return false;
    const std::string where = Text(place.first, place.last);
    const std::string said =
        verb == "moved" ? " moved to " : (negated ? " " + m.negation + " live in " : " lives in ");
    Add(Kind::kFact,
        Name() + (negated && m.negation == "don't" ? " doesn't live in " : said) + where,
        "home_city", NormaliseValue(where), negated ? -1 : 1, 0.8);
    return true;
  }
  if (subject == "we") return false;
  // "I went vegetarian", "I've gone fully vegan", "I became a vegetarian".
  if ((verb == "went" || verb == "gone" || verb == "turned" || verb == "became" ||
       verb == "become") &&
      !negated) {
    size_t d = v + 1;
    while (d < ws_.size() && d <= v + 3 && ws_[d].joined &&
           (ws_[d].lower == "fully" || ws_[d].lower == "completely" || ws_[d].lower == "full" ||
            ws_[d].lower == "totally" || ws_[d].lower == "a" || ws_[d].lower == "strictly")) {
      ++d;
    }
    if (d < ws_.size() && ws_[d].joined && In(kDiets, ws_[d].lower)) {
      Add(Kind::kFact, Name() + " is " + ws_[d].lower, "diet", ws_[d].lower, 1, 0.8);
      return true;
    }
  }
  // "I stopped being vegan": no diet now.
  if (verb == "stopped" && At(ws_, v + 1, "being") && v + 2 < ws_.size() &&
      In(kDiets, ws_[v + 2].lower)) {
    Add(Kind::kFact, Name() + " is no longer " + ws_[v + 2].lower, "diet", ws_[v + 2].lower, -1,
        0.75);
    return true;
  }
  // "I started drinking again", "I started eating meat again": an abstention ends.
  if (verb == "started" && !negated && (At(ws_, v + 1, "drinking") || At(ws_, v + 1, "eating"))) {
    bool again = false;
    for (size_t q = v + 2; q < ws_.size(); ++q) again |= ws_[q].lower == "again";
    if (again) {
      const bool drink = ws_[v + 1].lower == "drinking";
      const Phrase obj = ObjectAt(ws_, v + 2, 3);
      std::string value = obj.ok && !BadObject(ws_, obj) && ws_[obj.first].lower != "again"
                              ? HeadValue(s_, ws_, obj)
                              : "";
      if (value.empty() && drink) value = "alcohol";
      if (!value.empty()) {
        Add(Kind::kFact, Name() + " " + Text(v, ws_.size() - 1),
            (drink ? "drinks:" : "eats:") + value, "yes", 1, 0.7);
        return true;
      }
    }
  }
  // "I gave up coffee", "I quit alcohol".
  if ((verb == "gave" && At(ws_, v + 1, "up")) || verb == "quit" ||
      (verb == "cut" && At(ws_, v + 1, "out"))) {
    const size_t o = verb == "quit" ? v + 1 : v + 2;
    const Phrase obj = ObjectAt(ws_, o, 3);
    if (obj.ok && !BadObject(ws_, obj)) {
      const std::string value = HeadValue(s_, ws_, obj);
      if (In(Drinks(), value)) {
        Add(Kind::kFact, Name() + " " + Text(v, obj.last), "drinks:" + value, "", -1, 0.75);
        return true;
      }
    }
  }
  if (((verb == "grew" && At(ws_, v + 1, "up") && At(ws_, v + 2, "in")) ||
       (verb == "come" && At(ws_, v + 1, "from"))) &&
      !negated) {
    const Phrase place = PlaceAt(ws_, v + (verb == "grew" ? 3 : 2));
    if (!place.ok) return false;
    const std::string where = Text(place.first, place.last);
    Add(Kind::kFact, Name() + (verb == "grew" ? " grew up in " : " comes from ") + where,
        "hometown", NormaliseValue(where), 1, 0.8);
    return true;
  }
  if (verb == "work" && !negated &&
      (At(ws_, v + 1, "as") || At(ws_, v + 1, "at") || At(ws_, v + 1, "for"))) {
    const std::string prep = ws_[v + 1].lower;
    const Phrase obj = ObjectAt(ws_, v + 2, 8);
    if (BadObject(ws_, obj)) return false;
    const std::string value = NormaliseValue(Text(obj.first, obj.head_last));
    if (value.empty()) return false;
    Add(Kind::kFact, Name() + " works " + prep + " " + Text(obj.first, obj.last),
        prep == "as" ? "job" : "employer", value, 1, 0.75);
    return true;
  }
  if ((verb == "turned" || verb == "turn") && v + 1 < ws_.size() && ws_[v + 1].joined &&
      IsNumber(ws_[v + 1].lower) && !negated) {
    Add(Kind::kFact, Name() + " turned " + ws_[v + 1].lower, "age", ws_[v + 1].lower, 1, 0.7);
    return true;
  }
  // "I don't eat meat", "I no longer eat meat", "I stopped eating meat".
  std::string food_verb;
  size_t obj_at = v + 1;
  if (negated && (verb == "eat" || verb == "drink")) {
    food_verb = verb;
  } else if ((verb == "stopped" || verb == "quit") && v + 1 < ws_.size() &&
             (ws_[v + 1].lower == "eating" || ws_[v + 1].lower == "drinking")) {
    food_verb = ws_[v + 1].lower == "eating" ? "eat" : "drink";
    obj_at = v + 2;
  }
  if (!food_verb.empty()) {
    const Phrase obj = ObjectAt(ws_, obj_at, 4);
    const bool time_word = obj.ok && In(kHeadEnd, ws_[obj.first].lower);
    std::string value = obj.ok && !time_word && !BadObject(ws_, obj) ? HeadValue(s_, ws_, obj) : "";
    if (value.empty() && food_verb == "drink") value = "alcohol";
    if (value.empty()) return false;
    const std::string tail = obj.ok && !time_word ? " " + Text(obj.first, obj.last) : "";
    std::string said = m.negation == "don't" ? " doesn't " + food_verb
                       : m.negation.empty()  ? " " + Text(v, v) + " " + ws_[v + 1].lower
                                             : " " + m.negation + " " + Conjugate(food_verb);
    Add(Kind::kFact, Name() + said + tail, food_verb + "s:" + value, "", -1, 0.75);
    return true;
  }
  return false;
}

// After "I'm" / "I am" / "I've been": allergic to, from, into, a fan of, N years old,
// vegetarian, a <profession>, living in.
bool Matcher::MatchBeing(size_t j, bool perfect) {
  const Modifiers m = ReadModifiers(s_, ws_, j);
  size_t v = m.next;
  if (v >= ws_.size()) return false;
  const bool negated = !m.negation.empty();
  const std::string is = negated ? " is not " : " is ";
  const std::string& w = ws_[v].lower;
  if (w == "allergic" && At(ws_, v + 1, "to")) {
    const Phrase obj = ObjectAt(ws_, v + 2, 5);
    if (BadObject(ws_, obj)) return false;
    const std::string value = HeadValue(s_, ws_, obj);
    if (value.empty()) return false;
    const std::vector<std::string> each = SplitAnd(value);
    for (const std::string& one : each) {
      Add(Kind::kFact,
          Name() + is + "allergic to " + (each.size() > 1 ? one : Text(obj.first, obj.last)),
          "allergy:" + one, "", negated ? -1 : 1, 0.8);
    }
    return true;
  }
  if (perfect && w == "in" && !negated) {  // "I've been in Houston since 2015"
    const Phrase place = PlaceAt(ws_, v + 1);
    if (place.ok && (At(ws_, place.last + 1, "since") || At(ws_, place.last + 1, "for"))) {
      const std::string where = Text(place.first, place.last);
      Add(Kind::kFact, Name() + " lives in " + where, "home_city", NormaliseValue(where), 1, 0.75);
      return true;
    }
    return false;
  }
  if (((w == "obsessed" || w == "crazy") && At(ws_, v + 1, w == "crazy" ? "about" : "with")) ||
      (w == "hooked" && At(ws_, v + 1, "on"))) {
    const Phrase obj = ObjectAt(ws_, v + 2, 6);
    if (BadObject(ws_, obj) || negated) return false;
    const std::string value = HeadValue(s_, ws_, obj);
    if (value.empty()) return false;
    Add(Kind::kPreference, Name() + " is " + Text(v, obj.last), "likes:" + value, "", 1, 0.7);
    return true;
  }
  if ((w == "drinking" || w == "eating") && !negated) {
    // "I'm drinking coffee again": an abstention ends.
    bool again = false;
    for (size_t q = v + 1; q < ws_.size(); ++q) again |= ws_[q].lower == "again";
    if (!again) return false;
    const Phrase obj = ObjectAt(ws_, v + 1, 3);
    std::string value = obj.ok && !BadObject(ws_, obj) && ws_[obj.first].lower != "again"
                            ? HeadValue(s_, ws_, obj)
                            : "";
    if (value.empty() && w == "drinking") value = "alcohol";
    if (value.empty()) return false;
    Add(Kind::kFact, Name() + " is " + Text(v, ws_.size() - 1),
        (w == "drinking" ? "drinks:" : "eats:") + value, "yes", 1, 0.7);
    return true;
  }
  if (IsNumber(w) && !negated && !perfect && std::stoi(w) >= 10 && std::stoi(w) <= 110) {
    // "I'm 34", "I'm 39 not 29", "I'm officially 40 now": an age, when nothing follows
    // that makes the number something else ("I'm 5 minutes away").
    static const Set& kAfter =
        *new Set{"now",     "and",   "but",  "so",   "not",     "years", "yrs", "lol",   "haha",
                 "already", "today", "this", "next", "turning", "btw",   "if",  "myself"};
    if (v + 1 >= ws_.size() || !ws_[v + 1].joined || In(kAfter, ws_[v + 1].lower)) {
      if (At(ws_, v + 1, "years") && !At(ws_, v + 2, "old") && v + 2 < ws_.size() &&
          ws_[v + 2].joined) {
        return false;  // "I'm 30 years into ..."
      }
      Add(Kind::kFact, Name() + " is " + w + (At(ws_, v + 1, "years") ? " years old" : ""), "age",
          w, 1, 0.75);
      return true;
    }
  }
  // "Hi, I'm Tomasz": a name after a greeting.
  if (!negated && !perfect && ws_[v].capitalised && !text::IsStopWord(w) && j <= 3 &&
      !ws_.empty() &&
      (ws_[0].lower == "hi" || ws_[0].lower == "hello" || ws_[0].lower == "hey" ||
       ws_[0].lower == "hiya" || ws_[0].lower == "heya")) {
    Phrase name = PlaceAt(ws_, v);
    if (name.ok && name.last <= v + 2) {
      const std::string who = Text(name.first, name.last);
      Add(Kind::kFact, Name() + "'s name is " + who, "name", NormaliseValue(who), 1, 0.75);
      return true;
    }
  }
  if ((w == "from" || (w == "living" && At(ws_, v + 1, "in"))) && !negated) {
    const Phrase place = PlaceAt(ws_, v + (w == "from" ? 1 : 2));
    if (!place.ok) return false;
    const std::string where = Text(place.first, place.last);
    Add(Kind::kFact, Name() + (w == "from" ? " is from " : " lives in ") + where,
        w == "from" ? "hometown" : "home_city", NormaliseValue(where), 1, 0.8);
    return true;
  }
  size_t fan = v;
  if (w == "a" || w == "an") ++fan;
  if (fan < ws_.size() && (ws_[fan].lower == "big" || ws_[fan].lower == "huge")) ++fan;
  if (w == "into" || (fan > v && At(ws_, fan, "fan") && At(ws_, fan + 1, "of"))) {
    const Phrase obj = ObjectAt(ws_, w == "into" ? v + 1 : fan + 2);
    if (BadObject(ws_, obj)) return false;
    const std::string value = HeadValue(s_, ws_, obj);
    if (value.empty()) return false;
    Add(Kind::kPreference, Name() + is + Text(v, obj.last), "likes:" + value, "", negated ? -1 : 1,
        0.7);
    return true;
  }
  if (IsNumber(w) && At(ws_, v + 1, "years") && At(ws_, v + 2, "old") && !negated) {
    Add(Kind::kFact, Name() + " is " + w + " years old", "age", w, 1, 0.8);
    return true;
  }
  const size_t d = (w == "a") ? v + 1 : v;
  if (d < ws_.size() && (d == v || ws_[d].joined) && In(kDiets, ws_[d].lower)) {
    // "I'm not vegetarian" alone says no more than that; "not ... anymore" ends a diet.
    bool ended = m.negation == "no longer";
    for (size_t q = d + 1; q < ws_.size(); ++q) {
      ended |= ws_[q].lower == "anymore" || (ws_[q].lower == "any" && At(ws_, q + 1, "more"));
    }
    if (negated && !ended) return false;
    Add(Kind::kFact, Name() + is + ws_[d].lower, "diet", ws_[d].lower, negated ? -1 : 1, 0.8);
    return true;
  }
  if ((w == "a" || w == "an") && !negated) {  // "I'm a (software) engineer"
    for (size_t p = v + 1; p < ws_.size() && p <= v + 3 && ws_[p].joined; ++p) {
      if (In(kProfessions, ws_[p].lower)) {
        static const Set& kAfter =
            *new Set{"and", "there", "here", "now", "btw", "lol", "already", "myself", "too"};
        const bool ends = p + 1 >= ws_.size() || !ws_[p + 1].joined ||
                          In(kHeadEnd, ws_[p + 1].lower) || In(kClauseEnd, ws_[p + 1].lower) ||
                          In(kAfter, ws_[p + 1].lower);
        if (!ends) return false;
        Add(Kind::kFact, Name() + " is " + Text(v, p), "job", NormaliseValue(Text(v + 1, p)), 1,
            0.7);
        return true;
      }
      if (text::IsStopWord(ws_[p].lower)) return false;
    }
  }
  return false;
}

// "my favorite X is Y", "my name is Y", "my wife's name is Y", "my dog is named Y".
bool Matcher::MatchMy(size_t k) {
  static const Set& kAttributes =
      *new Set{"job",      "occupation", "profession", "age",  "hometown", "major",
               "religion", "email",      "pronouns",   "goal", "dream"};
  static const Set& kNamed = *new Set{"name", "birthday", "nickname"};
  size_t x = k + 1;
  // "my wife Sarah", "my dog is named Pixel", "my birthday is June 5": life_patterns.cc.
  if (x < ws_.size() &&
      (!RelationOf(ws_[x].lower).empty() || !SpeciesOf(ws_[x].lower).empty() ||
       ws_[x].lower == "birthday" || ws_[x].lower == "anniversary" || ws_[x].lower == "bday")) {
    return false;
  }
  if (At(ws_, x, "name") && ws_[x].possessive) {  // "my name's Katarzyna"
    const Phrase name = PlaceAt(ws_, x + 1);
    if (!name.ok || name.last > x + 3) return false;
    const std::string who = Text(name.first, name.last);
    Add(Kind::kFact, Name() + "'s name is " + who, "name", NormaliseValue(who), 1, 0.8);
    return true;
  }
  const bool favorite = At(ws_, x, "favorite") || At(ws_, x, "favourite") || At(ws_, x, "fave");
  if (favorite && k >= 2 && ws_[k].joined && (ws_[k - 1].lower == "is" || ws_[k - 1].possessive)) {
    // "Fontaines DC is my favorite band now": the value comes first.
    const size_t last = ws_[k - 1].possessive ? k - 1 : k - 2;
    size_t first = last;
    while (first > 0 && first + 4 > last && ws_[first].joined && ws_[first - 1].lower != "and" &&
           ws_[first - 1].lower != "now" && ws_[first - 1].lower != "but" &&
           ws_[first - 1].lower != "so") {
      --first;
    }
    size_t end = x + 1;
    while (end < ws_.size() && end <= x + 3 && ws_[end].joined && !In(kHeadEnd, ws_[end].lower))
      ++end;
    const std::string category = NormaliseValue(Text(x + 1, end - 1));
    const std::string value = NormaliseValue(Original(s_, ws_, first, last));
    if (category.empty() || value.empty() || text::IsStopWord(ws_[first].lower)) return false;
    Add(Kind::kFact, Name() + "'s " + Text(x, end - 1) + " is " + Original(s_, ws_, first, last),
        "favorite:" + category, value, 1, 0.7);
    return true;
  }
  if (favorite) ++x;
  size_t is = x;
  while (is < ws_.size() && is < x + 3 && ws_[is].joined && ws_[is].lower != "is" &&
         ws_[is].lower != "are") {
    ++is;
  }
  if (is == x || !At(ws_, is, is < ws_.size() && ws_[is].lower == "are" ? "are" : "is")) {
    return false;
  }
  std::string key;
  for (size_t m = x; m < is; ++m) key += (key.empty() ? "" : "_") + ws_[m].lower;
  size_t y = is + 1;
  const bool named = At(ws_, y, "named") || At(ws_, y, "called");
  if (named) ++y;
  const Phrase obj = ObjectAt(ws_, y, 12);
  if (!obj.ok || In(kPronounObjects, ws_[obj.first].lower) || At(ws_, y, "not")) return false;
  std::string slot;
  if (favorite) {
    slot = "favorite:" + NormaliseValue(Text(x, is - 1));
  } else if (named && is - x <= 2) {
    slot = key + "_name";
  } else if (kNamed.count(ws_[is - 1].lower) > 0) {
    slot = key;
  } else if (In(kAttributes, key)) {
    slot = key == "occupation" || key == "profession" ? "job" : key;
  } else {
    return false;
  }
  const std::string value = NormaliseValue(Text(obj.first, obj.head_last));
  if (value.empty()) return false;
  Add(Kind::kFact,
      Name() + "'s " + Text(k + 1, is - 1) + " " + Text(is, is) + " " +
          (named ? Text(is + 1, is + 1) + " " : "") + Text(obj.first, obj.last),
      slot, value, 1, favorite ? 0.75 : 0.8);
  return true;
}

// "I always / never <verb> ...": a habit, stored as a procedure.
void Matcher::MatchHabit(size_t k) {
  static const Set& kStates = *new Set{
      "think",  "know",   "want",    "expect",  "imagine", "understand", "believe", "get",   "feel",
      "forget", "regret", "realize", "realise", "stop",    "miss",       "wish",    "dream", "be",
      "have",   "love",   "like",    "enjoy",   "hate",    "wonder",     "find",    "say"};
  const Modifiers m = ReadModifiers(s_, ws_, k + 1);
  if (!m.always || m.next >= ws_.size()) return;
  const std::string& verb = ws_[m.next].lower;
  if (IsPastOrModal(verb) || In(kStates, verb) || text::IsStopWord(verb)) return;
  const Phrase obj = ObjectAt(ws_, m.next + 1, 10);
  const size_t last = obj.ok ? obj.last : m.next;
  Add(Kind::kProcedure, ToThirdPerson(s_, ws_, k, ws_[last].end, *c_.names), "", "", 1, 0.6);
}

// Imperatives at the start of a sentence ("Always back up first", "Never skip warm-ups") and
// step sequences ("To make bread, first ... then ...").
void Matcher::MatchImperative() {
  if (ws_.size() < 3) return;
  const std::string& w = ws_[0].lower;
  bool steps = false;
  bool then = false;
  for (const Word& x : ws_) {
    steps |= x.lower == "first";
    then |= x.lower == "then";
  }
  // The word after "Always" must look like a verb in the imperative, not "Always happy to".
  const std::string& verb = ws_[1].lower;
  const bool imperative = (w == "always" || w == "never") && ws_[1].joined &&
                          !text::IsStopWord(verb) && !IsFiller(verb) && !IsPastOrModal(verb) &&
                          verb != "mind" && !(verb.size() > 4 && verb.ends_with("ing"));
  const bool method = (w == "to" || w == "first") && steps && then;
  if (!imperative && !method) return;
  std::string body(s_.substr(0, ws_.back().end));
  if (body.size() > 1 && body[0] >= 'A' && body[0] <= 'Z' && !(body[1] >= 'A' && body[1] <= 'Z')) {
    body[0] = static_cast<char>(body[0] + 32);
  }
  Add(Kind::kProcedure, Name() + (method ? "'s method: " : "'s rule: ") + body, "", "", 1, 0.6);
}

}  // namespace

void MatchPatterns(const Clause& clause, std::vector<Candidate>* out) {
  const size_t first = out->size();
  Matcher(clause, out).Run();
  MatchLifeEvents(clause, out, first);
}

std::string ToThirdPerson(std::string_view s, const std::vector<Word>& ws, size_t from, size_t end,
                          const Names& names) {
  std::string out;
  size_t cursor = from < ws.size() ? ws[from].begin : end;
  bool conjugate = false;
  for (size_t k = from; k < ws.size() && ws[k].end <= end; ++k) {
    const Word& w = ws[k];
    out.append(s.substr(cursor, w.begin - cursor));
    cursor = w.end;
    // "The user" starts a sentence; elsewhere it is "the user".
    std::string name = names.display;
    if (!out.empty() && names.display == "The user") name = "the user";
    const std::string& l = w.lower;
    const bool next_been =
        k + 1 < ws.size() && (ws[k + 1].lower == "been" || IsPastOrModal(ws[k + 1].lower));
    // A subject of no length was put before a clause that dropped it ("Moved to Oslo").
    const std::string gap = w.begin == w.end ? " " : "";
    if (l == "i") {
      out += name + gap;
      conjugate = true;
      continue;
    }
    if (l == "i'm" || l == "i've" || l == "i'll" || l == "i'd") {
      out += name +
             (l == "i'm"    ? " is"
              : l == "i've" ? " has"
              : l == "i'll" ? " will"
                            : (next_been ? " had" : " would")) +
             gap;
      conjugate = false;
      continue;
    }
    if (l == "me" || l == "myself") {
      out += name;
      continue;
    }
    if (l == "my" || l == "mine") {
      out += name + "'s" + gap;
      continue;
    }
    std::string orig(s.substr(w.begin, w.end - w.begin));
    // "Big fan of jazz" -> "Caroline is big fan of jazz": the word after a dropped subject
    // was capitalised only for starting the sentence.
    if (k > 0 && ws[k - 1].begin == ws[k - 1].end && orig.size() > 1 && IsUpper(orig[0]) &&
        !IsUpper(orig[1])) {
      orig[0] = static_cast<char>(orig[0] + 32);
    }
    if (conjugate) {
      const bool adverb = In(kAdverbs, l) || l == "never" ||
                          (l.size() > 3 && l.compare(l.size() - 2, 2, "ly") == 0);
      if (adverb && l != "do") {
        out.append(orig);
        continue;
      }
      conjugate = false;
      if (!IsPastOrModal(l) && !w.capitalised && l.find('\'') == std::string::npos) {
        out += Conjugate(l);
        continue;
      }
      if (l == "don't" || l == "haven't") {
        out += Conjugate(l);
        continue;
      }
    }
    out.append(orig);
  }
  if (cursor < end) out.append(s.substr(cursor, end - cursor));
  return out;
}

std::string NormaliseValue(std::string_view phrase) {
  static const Set& kLeading =
      *new Set{"a", "an", "the", "my", "some", "our", "his", "her", "their", "both"};
  static const Set& kTrailing =
      *new Set{"too",      "so",       "much",    "a",        "lot",        "very",      "well",
               "as",       "lately",   "anymore", "now",      "right",      "these",     "days",
               "either",   "actually", "tbh",     "btw",      "anyway",     "anyways",   "ever",
               "honestly", "lol",      "haha",    "though",   "tho",        "really",    "rn",
               "ngl",      "imo",      "again",   "anything", "everything", "personally"};
  std::vector<std::string> words = text::Words(phrase);
  size_t b = 0;
  while (b < words.size() && In(kLeading, words[b])) ++b;
  size_t e = words.size();
  while (e > b && In(kTrailing, words[e - 1])) --e;
  std::string out;
  for (size_t k = b; k < e; ++k) {
    if (!out.empty()) out += ' ';
    out += words[k];
  }
  return out;
}

}  // namespace mnemo::write::internal
