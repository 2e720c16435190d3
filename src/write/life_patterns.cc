// Patterns about the user's life beyond likes and attributes: the people and pets they
// name ("my wife Sarah", "we adopted a dog named Pixel"), birthdays and anniversaries,
// jobs taken and left ("I accepted an offer from Globex as a staff engineer", "I quit
// Initech"), moves the simpler patterns miss ("I relocated to Oslo", "now I'm in Oslo"),
// and corrections ("Scratch that, I meant Porto, not Lisbon"), which consolidation resolves
// against what the user already has (write/derived.h, ResolveCorrection).
// As in rule_patterns.cc, each pattern starts at a first-person word and is narrow: a
// missed fact costs recall, a wrong one pollutes the profile.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "text/analyzer.h"
#include "write/rule_patterns.h"

namespace mnemo::write::internal {
namespace {

using Set = std::unordered_set<std::string_view>;
using Map = std::unordered_map<std::string_view, std::string_view>;

bool In(const Set& set, std::string_view w) { return set.count(w) > 0; }

// A hedge before word k in its clause: "if my wife ...", "I wish my dog ...".
bool HedgeBefore(const std::vector<Word>& ws, size_t k) {
  static const auto& hedges = *new Set{"if",      "unless", "whether", "wish",    "suppose",
                                       "imagine", "hope",   "maybe",   "perhaps", "wonder"};
  for (size_t m = k; m-- > 0;) {
    if (In(hedges, ws[m].lower)) return true;
    if (!ws[m + 1].joined) break;
  }
  return false;
}

const Set& Titles() {
  static const auto& s =
      *new Set{"mr",   "mrs",     "ms",       "miss",   "dr",        "sir",  "lady",
               "lord", "captain", "princess", "prince", "professor", "king", "queen"};
  return s;
}

const Set& Adjectives() {
  static const auto& s =
      *new Set{"little",  "older", "younger", "big",   "baby",   "eldest", "oldest",    "youngest",
               "twin",    "new",   "lovely",  "sweet", "dear",   "late",   "beautiful", "wonderful",
               "amazing", "two",   "three",   "four",  "rescue", "old",    "adorable",  "cute",
               "black",   "white", "ginger",  "grey",  "gray",   "brown",  "tabby",     "golden",
               "own",     "first", "second",  "only",  "middle", "other"};
  return s;
}

const Map& Months() {
  static const auto& m = *new Map{{"january", "january"},   {"jan", "january"},
                                  {"february", "february"}, {"feb", "february"},
                                  {"march", "march"},       {"mar", "march"},
                                  {"april", "april"},       {"apr", "april"},
                                  {"may", "may"},           {"june", "june"},
                                  {"jun", "june"},          {"july", "july"},
                                  {"jul", "july"},          {"august", "august"},
                                  {"aug", "august"},        {"september", "september"},
                                  {"sep", "september"},     {"sept", "september"},
                                  {"october", "october"},   {"oct", "october"},
                                  {"november", "november"}, {"nov", "november"},
                                  {"december", "december"}, {"dec", "december"}};
  return m;
}

// A first name: capitalised, in the clause, letters only, not a function word or month.
bool IsName(const std::vector<Word>& ws, size_t k) {
  if (k >= ws.size() || !ws[k].joined || !ws[k].capitalised) return false;
  const std::string& w = ws[k].lower;
  if (w.size() < 2 || text::IsStopWord(w) || Months().count(w) || w == "i") return false;
  for (char c : w) {
    if (!((c >= 'a' && c <= 'z') || c == '-' || static_cast<unsigned char>(c) >= 0x80))
      return false;
  }
  return true;
}

std::string Capitalised(std::string_view w) {
  std::string out(w);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

// Words that end a role or organisation phrase.
bool EndsPhrase(const std::vector<Word>& ws, size_t k) {
  static const auto& s =
      *new Set{"at",   "for",   "with", "in",    "on",    "from",    "starting",
               "next", "last",  "this", "and",   "but",   "because", "since",
               "so",   "after", "when", "which", "where", "today",   "yesterday"};
  return k >= ws.size() || !ws[k].joined || In(s, ws[k].lower);
}

class LifeMatcher {
 public:
  LifeMatcher(const Clause& c, std::vector<Candidate>* out, size_t clause_first)
      : s_(c.sentence), ws_(c.words), name_(c.names->display), out_(out), first_(clause_first) {}

  void Run() {
    for (size_t k = 0; k < ws_.size(); ++k) {
      const std::string& w = ws_[k].lower;
      const bool mine = w == "my" || w == "our";
      const bool self =
          w == "i" || w == "we" || w == "i've" || w == "we've" || w == "i'm" || w == "we're";
      if (mine) {
        if (!HedgeBefore(ws_, k)) Possession(k + 1);
        continue;
      }
      // "Mum's name is Rosa", "Grandpa Henrik gave it to me": a relation that starts the
      // sentence, capitalised, is the speaker's.
      if (k == 0 && ws_[0].capitalised && !RelationOf(w).empty() &&
          (ws_[0].possessive || IsName(ws_, 1))) {
        Possession(0);
        continue;
      }
      if (!self || Hedged(ws_, k)) continue;
      {
        PetNamed(k);
        Job(k);
        Move(k);
        Born(k);
      }
    }
    Correction();
  }

 private:
  void Add(Kind kind, std::string text, std::string slot, std::string value, int polarity,
           double confidence) {
    out_->push_back(MakeCandidate(kind, std::move(text), std::move(slot), std::move(value),
                                  polarity, confidence));
  }
  bool Has(std::string_view slot) const {
    for (size_t i = first_; i < out_->size(); ++i) {
      if ((*out_)[i].slot == slot) return true;
    }
    return false;
  }
  std::string Words(size_t first, size_t last) const { return Original(s_, ws_, first, last); }

  // The name after a relation or species word at j: "Sarah", "named Pixel", "is named
  // Pixel", "is Peter", "'s name is Sarah", ", Salt" (after a comma). Returns its index,
  // or 0.
  size_t NameAfter(size_t j) const {
    if (ws_[j].possessive) {
      return At(ws_, j + 1, "name") && At(ws_, j + 2, "is") && IsName(ws_, j + 3) ? j + 3 : 0;
    }
    if (IsName(ws_, j + 1)) return j + 1;
    if ((At(ws_, j + 1, "named") || At(ws_, j + 1, "called")) && IsName(ws_, j + 2)) return j + 2;
    if (At(ws_, j + 1, "is") && (At(ws_, j + 2, "named") || At(ws_, j + 2, "called")) &&
        IsName(ws_, j + 3)) {
      return j + 3;
    }
    // "My husband is Peter" (a name, then the end of the clause)
    if (At(ws_, j + 1, "is") && IsName(ws_, j + 2) &&
        (j + 3 >= ws_.size() || !ws_[j + 3].joined || ws_[j + 3].lower == "and")) {
      return j + 2;
    }
    // "two cats, Salt and Pepper"
    if (j + 1 < ws_.size() && !ws_[j + 1].joined && ws_[j + 1].capitalised &&
        s_.substr(ws_[j].end, ws_[j + 1].begin - ws_[j].end) == ", ") {
      std::vector<Word> probe = {ws_[j], ws_[j + 1]};
      probe[1].joined = true;
      if (IsName(probe, 1)) return j + 1;
    }
    return 0;
  }

  // The name starting at n as written, with its title ("Mr Nibbles"), and its slot key.
  std::pair<std::string, std::string> FullName(size_t n) const {
    if (In(Titles(), ws_[n].lower) && IsName(ws_, n + 1)) {
      return {Words(n, n + 1), ws_[n].lower + " " + ws_[n + 1].lower};
    }
    return {Words(n, n), ws_[n].lower};
  }

  // From j, the word after "my" / "our" (or a capitalised relation that starts the
  // sentence): "my wife Sarah", "our daughters Emma and Mia", "my dog Pixel", "my cat is
  // called Miso", "my birthday is June 5", "our anniversary's on the 12th of June".
  void Possession(size_t j) {
    const bool ours = j > 0 && ws_[j - 1].lower == "our";
    while (j < ws_.size() && ws_[j].joined && In(Adjectives(), ws_[j].lower)) ++j;
    if (j >= ws_.size() || (j > 0 && !ws_[j].joined)) return;
    if (At(ws_, j, "wedding")) ++j;
    const std::string& w = ws_[j].lower;
    if (w == "birthday" || w == "bday" || w == "anniversary") {
      size_t from = ws_[j].possessive ? j + 1 : 0;
      if (!ws_[j].possessive &&
          (At(ws_, j + 1, "is") || At(ws_, j + 1, "falls") || At(ws_, j + 1, "was"))) {
        from = j + 2;
      }
      if (from == 0) return;
      const std::string day = MonthDay(ws_, from, std::min(ws_.size() - 1, from + 5));
      if (day.empty()) return;
      out_->push_back(DateFact(name_, w == "anniversary" ? "anniversary" : "birthday", day, 0.8));
      return;
    }
    const std::string_view relation = RelationOf(w);
    const std::string_view species = SpeciesOf(w);
    if (relation.empty() && species.empty()) return;
    if (ours && !species.empty() && ws_[j].possessive) return;
    size_t first_name = NameAfter(j);
    // "Sami is my husband now", "Ingrid's my sister": the name comes first.
    if (first_name == 0 && !relation.empty() && j >= 2 && ws_[j - 1].lower == "my") {
      std::vector<Word> probe(ws_.begin(), ws_.begin() + static_cast<std::ptrdiff_t>(j));
      size_t n = j - 2;
      if (ws_[n].lower == "is" && n >= 1)
        --n;
      else if (!ws_[n].possessive)
        n = ws_.size();
      if (n < ws_.size() && (n == 0 || !ws_[n].joined || !ws_[n - 1].capitalised)) {
        probe[n].joined = true;
        if (IsName(probe, n)) {
          const std::string name = Words(n, n);
          Add(Kind::kFact, name_ + "'s " + std::string(relation) + " is " + name,
              "family:" + ws_[n].lower, std::string(relation), 1, 0.7);
        }
      }
      return;
    }
    for (size_t n = first_name; n != 0;) {
      const auto [name, key] = FullName(n);
      if (!relation.empty()) {
        Add(Kind::kFact, name_ + "'s " + std::string(relation) + " is " + name, "family:" + key,
            std::string(relation), 1, 0.75);
      } else {
        Add(Kind::kFact, name_ + " has a " + std::string(species) + " named " + name, "pet:" + key,
            std::string(species), 1, 0.75);
      }
      if (key.find(' ') != std::string::npos) ++n;
      // "my sons Leo and Max"
      n = At(ws_, n + 1, "and") && IsName(ws_, n + 2) ? n + 2 : 0;
    }
  }

  // "we adopted a dog named Pixel", "I have a cat called Miso", "I've got two rabbits".
  void PetNamed(size_t k) {
    static const auto& verbs = *new Set{"have", "got",  "adopted", "rescued", "bought",
                                        "own",  "took", "brought", "welcomed"};
    static const auto& skip = *new Set{"just", "finally", "recently", "also", "now", "even",
                                       "have", "a",       "an",       "in",   "home"};
    size_t v = k + 1;
    while (v < ws_.size() && ws_[v].joined && In(skip, ws_[v].lower) && !In(verbs, ws_[v].lower))
      ++v;
    if (ws_[k].lower.ends_with("'ve") && At(ws_, v, "got")) {
      // "I've got a dog named Rex"
    } else if (v >= ws_.size() || !ws_[v].joined || !In(verbs, ws_[v].lower)) {
      if (!(At(ws_, v, "have") || (v > k + 1 && At(ws_, v - 1, "have")))) return;
    }
    // Every species named after the verb: "a rabbit called Clover", "two cats, Salt and
    // Pepper", "a leopard gecko named Spike".
    for (size_t p = v + 1; p < ws_.size() && p <= v + 16; ++p) {
      if (SpeciesOf(ws_[p].lower).empty()) continue;
      const size_t n = NameAfter(p);
      if (n == 0) continue;
      const std::string species(SpeciesOf(ws_[p].lower));
      for (size_t m = n; m != 0;) {
        const auto [name, key] = FullName(m);
        Add(Kind::kFact, name_ + " has a " + species + " named " + name, "pet:" + key, species, 1,
            0.75);
        if (key.find(' ') != std::string::npos) ++m;
        m = At(ws_, m + 1, "and") && IsName(ws_, m + 2) ? m + 2 : 0;
      }
    }
  }

  // The role after "as" at j ("as a staff engineer"): its first and last word, or none.
  bool RoleAt(size_t j, size_t* first, size_t* last) const {
    if (!At(ws_, j, "as")) return false;
    size_t b = j + 1;
    if (At(ws_, b, "a") || At(ws_, b, "an") || At(ws_, b, "the")) ++b;
    if (b >= ws_.size() || !ws_[b].joined) return false;
    size_t e = b;
    while (e + 1 < ws_.size() && e + 1 <= b + 3 && !EndsPhrase(ws_, e + 1)) ++e;
    if (text::IsStopWord(ws_[e].lower) || ws_[e].lower == "part") return false;
    *first = j + 1;
    *last = e;
    return true;
  }

  // An organisation after a preposition in [from, ws.size()): its phrase, or none.
  Phrase OrgAfter(size_t from, std::initializer_list<std::string_view> preps) const {
    for (size_t q = from; q < ws_.size() && q < from + 8; ++q) {
      if (q > from && !ws_[q].joined) break;
      for (std::string_view p : preps) {
        if (ws_[q].lower != p) continue;
        Phrase org = PlaceAt(ws_, q + 1);
        if (org.ok) return org;
      }
    }
    return {};
  }

  void Employer(const Phrase& org, int polarity, double confidence) {
    const std::string name = Words(org.first, org.last);
    const std::string value = NormaliseValue(name);
    if (value.empty() || Has("employer")) return;
    Add(Kind::kFact, name_ + (polarity > 0 ? " works at " : " no longer works at ") + name,
        "employer", value, polarity, confidence);
  }

  void Role(size_t first, size_t last, double confidence) {
    const std::string role = Words(first, last);
    const std::string value = NormaliseValue(role);
    if (value.empty() || Has("job")) return;
    Add(Kind::kFact, name_ + " works as " + role, "job", value, 1, confidence);
  }

  // Jobs taken: "I accepted an offer from Globex as a staff engineer", "I got a job at
  // Acme", "I started at Initech as a PM", "I joined Hooli as a designer", "I got promoted
  // to senior engineer", "I'm now a nurse at St Mary's". Jobs left: "I quit Initech",
  // "I left my job at Acme", "I was laid off".
  void Job(size_t k) {
    const std::string& subject = ws_[k].lower;
    if (subject != "i" && subject != "i've" && subject != "i'm") return;
    const Modifiers m = ReadModifiers(s_, ws_, k + 1);
    if (!m.negation.empty()) return;
    size_t v = m.next;
    if (At(ws_, v, "was") || At(ws_, v, "have") || At(ws_, v, "officially")) ++v;
    if (v >= ws_.size() || !ws_[v].joined) return;
    const std::string& verb = ws_[v].lower;
    static const auto& job_words = *new Set{"offer", "job", "position", "role", "gig"};
    size_t role_first = 0, role_last = 0;
    auto role_anywhere = [&](size_t from) {
      for (size_t q = from; q < ws_.size() && q < from + 10; ++q) {
        if (q > from && !ws_[q].joined) break;
        if (RoleAt(q, &role_first, &role_last)) return true;
      }
      return false;
    };
    if (subject == "i'm") {
      // "I'm now a nurse at St Mary's", "I'm working at Acme", "I'm working for Globex"
      if (verb == "working" || verb == "employed") {
        const Phrase org = OrgAfter(v + 1, {"at", "for", "with", "by"});
        if (org.ok) Employer(org, 1, 0.75);
        return;
      }
      if (verb == "a" || verb == "an") {
        const Phrase org = OrgAfter(v + 1, {"at", "for", "with", "called", "named"});
        if (org.ok) Employer(org, 1, 0.7);
      }
      return;
    }
    if ((verb == "work" || verb == "working") && role_anywhere(v + 1)) {
      // "I work at Initech as a data analyst" (the employer is rule_patterns.cc's)
      const Phrase org = OrgAfter(v + 1, {"at", "for", "with"});
      if (org.ok) Employer(org, 1, 0.75);
      Role(role_first, role_last, 0.75);
      return;
    }
    if ((verb == "got" || verb == "promoted") &&
        At(ws_, v + 1, verb == "got" ? "promoted" : "to")) {
      const size_t to = verb == "got" ? v + 2 : v + 1;
      if (!At(ws_, to, "to")) return;
      size_t e = to + 1;
      if (e >= ws_.size() || !ws_[e].joined) return;
      while (e + 1 < ws_.size() && e + 1 <= to + 4 && !EndsPhrase(ws_, e + 1)) ++e;
      const std::string role = Words(to + 1, e);
      if (NormaliseValue(role).empty() || Has("job")) return;
      Add(Kind::kFact, name_ + " works as " + role, "job", NormaliseValue(role), 1, 0.7);
      return;
    }
    if (verb == "moved" || verb == "relocated") {
      // "I moved from Recife to Lisbon for a job at Farfetch"
      for (size_t q = v + 1; q + 2 < ws_.size() && q <= v + 12; ++q) {
        if (!ws_[q].joined) break;
        if (!In(job_words, ws_[q].lower) || ws_[q].lower == "offer") continue;
        const Phrase org = OrgAfter(q + 1, {"at", "with"});
        if (org.ok) Employer(org, 1, 0.7);
        break;
      }
      return;
    }
    if (verb == "accepted" || verb == "took" || verb == "signed" || verb == "got" ||
        verb == "landed" || verb == "started" || verb == "joined" || verb == "hired") {
      size_t w = v + 1;
      bool job = false;
      const bool got = verb == "got" || verb == "landed";
      if (verb == "got" &&
          (At(ws_, w, "hired") || At(ws_, w, "poached") || At(ws_, w, "recruited"))) {
        job = true;
        ++w;
      }
      for (size_t q = w; !job && q < ws_.size() && q <= w + 3 && ws_[q].joined; ++q) {
        if (!In(job_words, ws_[q].lower)) continue;
        // An offer received is not a job taken; one accepted is.
        if (got && ws_[q].lower == "offer") return;
        job = true;
        w = q + 1;
      }
      if (verb == "started" && (At(ws_, w, "working") || At(ws_, w, "work"))) {
        job = true;
        ++w;
      }
      const bool role = role_anywhere(w);
      Phrase org = OrgAfter(w, {"from", "at", "with", "for", "by", "called", "named"});
      if (verb == "joined" || (verb == "started" && !job)) {
        // "joined Hooli as a designer", "started at Initech as a PM": with a role only,
        // so that "joined Strava" or "started at 9" say nothing.
        if (verb == "joined" && !org.ok) org = PlaceAt(ws_, v + 1);
        if (!role) return;
      } else if (!job) {
        return;
      }
      if (org.ok) Employer(org, 1, 0.75);
      if (role) Role(role_first, role_last, 0.75);
      return;
    }
    static const auto& cues = *new Set{"job",  "work", "company", "employer", "position",
                                       "role", "boss", "team",    "resigned", "office"};
    bool cue = false;
    for (const Word& x : ws_) cue |= In(cues, x.lower);
    if (verb == "quit" || verb == "left" || verb == "resigned") {
      size_t o = v + 1;
      if (verb == "resigned" && At(ws_, o, "from")) ++o;
      if (At(ws_, o, "my") && (At(ws_, o + 1, "job") || At(ws_, o + 1, "position"))) {
        const Phrase org = OrgAfter(o + 2, {"at", "with", "for"});
        if (org.ok) {
          Employer(org, -1, 0.7);
        } else if (!Has("employer")) {
          Add(Kind::kFact, name_ + " left " + Words(o, o + 1), "employer", "", -1, 0.7);
        }
        return;
      }
      const Phrase org = PlaceAt(ws_, o);
      if (!org.ok) return;
      if (verb != "left" || cue) return Employer(org, -1, 0.7);
      // "I left Tilde", "I left Berlin": whichever of the user's values it names ends.
      Candidate c;
      c.kind = Kind::kFact;
      c.text = name_ + " left " + Words(org.first, org.last);
      c.corrects = Words(org.first, org.last);
      c.confidence = 0.7;
      out_->push_back(std::move(c));
      return;
    }
    if (verb == "laid" && At(ws_, v + 1, "off")) {
      const Phrase org = OrgAfter(v + 2, {"from", "at", "by"});
      if (org.ok) {
        Employer(org, -1, 0.7);
      } else if (!Has("employer")) {
        Add(Kind::kFact, name_ + " was laid off", "employer", "", -1, 0.7);
      }
    }
  }

  void Home(const Phrase& place, double confidence) {
    if (!place.ok || Has("home_city")) return;
    const std::string where = Words(place.first, place.last);
    Add(Kind::kFact, name_ + " lives in " + where, "home_city", NormaliseValue(where), 1,
        confidence);
  }

  // "I relocated to Oslo", "we moved back to Leeds", "I moved from Madrid to Oslo", "I'm
  // based in Oslo", "now I'm in Oslo", "we're in Oslo now".
  void Move(size_t k) {
    const std::string& subject = ws_[k].lower;
    const Modifiers m = ReadModifiers(s_, ws_, k + 1);
    if (!m.negation.empty()) return;
    size_t v = m.next;
    if ((subject == "i've" || subject == "we've") && v < ws_.size()) {
      // "I've relocated to"
    } else if (At(ws_, v, "have")) {
      ++v;
    }
    if (v >= ws_.size() || !ws_[v].joined) return;
    const std::string& verb = ws_[v].lower;
    // "I caved and moved down to London": a second verb of the same subject.
    if (subject != "i'm" && subject != "we're") {
      for (size_t q = v + 1; q + 2 < ws_.size() && q <= v + 8; ++q) {
        const std::string& w = ws_[q].lower;
        if (w == "he" || w == "she" || w == "they" || w == "you" || w == "it" ||
            (ws_[q].capitalised && w != "i")) {
          break;
        }
        if (w != "and" || !ws_[q + 1].joined) continue;
        size_t mv = q + 1;
        while (mv < ws_.size() && (ws_[mv].lower == "then" || ws_[mv].lower == "finally" ||
                                   ws_[mv].lower == "eventually" || ws_[mv].lower == "just")) {
          ++mv;
        }
        if (!At(ws_, mv, "moved") && !At(ws_, mv, "relocated")) continue;
        size_t to = mv + 1;
        static const auto& particles = *new Set{"back", "down", "up", "over", "out", "here"};
        if (to < ws_.size() && In(particles, ws_[to].lower)) ++to;
        if (At(ws_, to, "to")) Home(PlaceAt(ws_, to + 1), 0.75);
        break;
      }
    }
    if (verb == "relocated" && At(ws_, v + 1, "to")) return Home(PlaceAt(ws_, v + 2), 0.8);
    if (verb == "moved" && At(ws_, v + 1, "back") && At(ws_, v + 2, "to")) {
      return Home(PlaceAt(ws_, v + 3), 0.8);
    }
    if (verb == "moved" && At(ws_, v + 1, "from")) {
      const Phrase from = PlaceAt(ws_, v + 2);
      if (from.ok && At(ws_, from.last + 1, "to")) Home(PlaceAt(ws_, from.last + 2), 0.8);
      return;
    }
    if (subject != "i'm" && subject != "we're") return;
    if (verb == "based" && At(ws_, v + 1, "in")) return Home(PlaceAt(ws_, v + 2), 0.75);
    if (verb == "in") {
      // Where one is now, not where one travels: "now" must say so.
      const Phrase place = PlaceAt(ws_, v + 1);
      if (!place.ok) return;
      const bool now = (k > 0 && ws_[k - 1].lower == "now") || m.adverbs.find("now") == 0 ||
                       At(ws_, place.last + 1, "now");
      bool trip = false;
      for (size_t q = place.last + 1; q < ws_.size(); ++q) {
        trip |= ws_[q].lower == "for" || ws_[q].lower == "visiting" || ws_[q].lower == "until";
      }
      if (now && !trip) Home(place, 0.7);
    }
  }

  // "I was born on March 3rd", "(I was) born and raised in Lagos", "we got married on
  // September 21st".
  void Born(size_t k) {
    size_t b = k + 1;
    if (At(ws_, b, "was") || At(ws_, b, "got")) ++b;
    if (At(ws_, b, "born") && At(ws_, b + 1, "and") && At(ws_, b + 2, "raised") &&
        At(ws_, b + 3, "in")) {
      const Phrase place = PlaceAt(ws_, b + 4);
      if (!place.ok || Has("hometown")) return;
      const std::string where = Words(place.first, place.last);
      Add(Kind::kFact, name_ + " was born and raised in " + where, "hometown",
          NormaliseValue(where), 1, 0.8);
      return;
    }
    if (At(ws_, b, "married") && At(ws_, b + 1, "on")) {
      const std::string day = MonthDay(ws_, b + 2, std::min(ws_.size() - 1, b + 6));
      if (!day.empty() && !Has("anniversary"))
        out_->push_back(DateFact(name_, "anniversary", day, 0.75));
      return;
    }
    if (ws_[k].lower != "i" || !At(ws_, k + 1, "was") || !At(ws_, k + 2, "born") ||
        !At(ws_, k + 3, "on")) {
      return;
    }
    const std::string day = MonthDay(ws_, k + 4, std::min(ws_.size() - 1, k + 8));
    if (!day.empty() && !Has("birthday")) out_->push_back(DateFact(name_, "birthday", day, 0.8));
  }

  // "Scratch that, I meant Porto, not Lisbon", "sorry, walnuts not peanuts", "I'm allergic
  // to walnuts, not peanuts": the wording after "not" is taken back, the one before it
  // meant. A cue word, or a candidate of this sentence about the meant wording, makes it a
  // correction rather than a contrast ("I like tea, not coffee" is not one).
  void Correction() {
    static const auto& cues =
        *new Set{"meant",    "mean",  "correction", "scratch",  "sorry",      "oops", "typo",
                 "actually", "wrong", "mistake",    "misspoke", "misspelled", "i",    "i'm"};
    static const auto& stops = *new Set{
        "meant", "mean", "to",  "in",   "at",    "is",   "was",  "it's",  "i",        "i'm", "say",
        "from",  "of",   "for", "with", "about", "said", "that", "sorry", "actually", "oops"};
    for (size_t n = 1; n + 1 < ws_.size(); ++n) {
      if (ws_[n].lower != "not" || !ws_[n + 1].joined) continue;
      // Y: up to three words after "not", to the end of the phrase.
      size_t y_last = n + 1;
      while (y_last + 1 < ws_.size() && y_last + 1 <= n + 3 && ws_[y_last + 1].joined &&
             !text::IsStopWord(ws_[y_last + 1].lower)) {
        ++y_last;
      }
      if (text::IsStopWord(ws_[n + 1].lower) || In(stops, ws_[n + 1].lower)) continue;
      // X: up to three words before "not" (a comma may separate them), to a stop word.
      size_t x_first = n - 1;
      if (In(stops, ws_[x_first].lower) || text::IsStopWord(ws_[x_first].lower)) continue;
      while (x_first > 0 && x_first + 3 > n && ws_[x_first].joined &&
             !In(stops, ws_[x_first - 1].lower) && !text::IsStopWord(ws_[x_first - 1].lower)) {
        --x_first;
      }
      bool cue = false;
      for (size_t q = 0; q < x_first; ++q) {
        cue |= In(cues, ws_[q].lower) && ws_[q].lower != "i" && ws_[q].lower != "i'm";
      }
      // A candidate of this sentence whose value (or thing) ends the meant words: "I like
      // tea, not coffee" means tea.
      for (size_t i = first_; i < out_->size() && !cue; ++i) {
        const Candidate& c = (*out_)[i];
        const size_t colon = c.slot.find(':');
        const std::string thing = !c.value.empty()             ? c.value
                                  : colon == std::string::npos ? ""
                                                               : c.slot.substr(colon + 1);
        if (thing.empty()) continue;
        const size_t words = static_cast<size_t>(std::count(thing.begin(), thing.end(), ' ')) + 1;
        if (words > n - x_first) continue;
        if (NormaliseValue(Words(n - words, n - 1)) == thing) {
          cue = true;
          x_first = n - words;
        }
      }
      const std::string meant = Words(x_first, n - 1);
      const std::string taken_back = Words(n + 1, y_last);
      const std::string meant_value = NormaliseValue(meant);
      if (!cue || meant_value.empty() || NormaliseValue(taken_back).empty()) continue;
      Candidate c;
      c.kind = Kind::kFact;
      c.text = name_ + " corrected: " + meant + ", not " + taken_back;
      c.corrects = taken_back;
      c.correction = meant;
      c.confidence = 0.7;
      out_->push_back(std::move(c));
      return;
    }
    // "Actually scratch amoxicillin": taken back. "Oops, I meant Intertech": the value
    // meant replaces the user's closest one (ResolveCorrection).
    for (size_t k = 0; k + 1 < ws_.size(); ++k) {
      const std::string& w = ws_[k].lower;
      const bool scratch = w == "scratch" && !At(ws_, k + 1, "that") && !At(ws_, k + 1, "this");
      const bool meant = (w == "meant" || w == "mean") && k > 0 && ws_[k - 1].lower == "i";
      if (!scratch && !meant) continue;
      size_t first = k + 1;
      if (meant && At(ws_, first, "to") && At(ws_, first + 1, "say")) first += 2;
      if (first >= ws_.size() || !ws_[first].joined || text::IsStopWord(ws_[first].lower)) return;
      size_t last = first;
      while (last + 1 < ws_.size() && last + 1 <= first + 2 && ws_[last + 1].joined &&
             !text::IsStopWord(ws_[last + 1].lower)) {
        ++last;
      }
      const std::string phrase = Words(first, last);
      if (NormaliseValue(phrase).empty()) return;
      Candidate c;
      c.kind = Kind::kFact;
      c.text = name_ + (scratch ? " took back: " : " corrected: ") + phrase;
      (scratch ? c.corrects : c.correction) = phrase;
      c.confidence = 0.65;
      out_->push_back(std::move(c));
      return;
    }
  }

  std::string_view s_;
  const std::vector<Word>& ws_;
  const std::string& name_;
  std::vector<Candidate>* out_;
  size_t first_;  // the first candidate of this clause in *out_
};

}  // namespace

std::string_view RelationOf(std::string_view w) {
  static const auto& m = *new Map{{"wife", "wife"},
                                  {"husband", "husband"},
                                  {"hubby", "husband"},
                                  {"partner", "partner"},
                                  {"spouse", "spouse"},
                                  {"girlfriend", "girlfriend"},
                                  {"boyfriend", "boyfriend"},
                                  {"gf", "girlfriend"},
                                  {"bf", "boyfriend"},
                                  {"fiance", "fiance"},
                                  {"fiancee", "fiancee"},
                                  {"daughter", "daughter"},
                                  {"daughters", "daughter"},
                                  {"son", "son"},
                                  {"sons", "son"},
                                  {"kid", "child"},
                                  {"kids", "child"},
                                  {"child", "child"},
                                  {"children", "child"},
                                  {"stepson", "stepson"},
                                  {"stepdaughter", "stepdaughter"},
                                  {"mother", "mother"},
                                  {"mom", "mother"},
                                  {"mum", "mother"},
                                  {"mommy", "mother"},
                                  {"mama", "mother"},
                                  {"father", "father"},
                                  {"dad", "father"},
                                  {"daddy", "father"},
                                  {"papa", "father"},
                                  {"sister", "sister"},
                                  {"sisters", "sister"},
                                  {"brother", "brother"},
                                  {"brothers", "brother"},
                                  {"grandmother", "grandmother"},
                                  {"grandma", "grandmother"},
                                  {"granny", "grandmother"},
                                  {"nana", "grandmother"},
                                  {"grandfather", "grandfather"},
                                  {"grandpa", "grandfather"},
                                  {"aunt", "aunt"},
                                  {"auntie", "aunt"},
                                  {"uncle", "uncle"},
                                  {"cousin", "cousin"},
                                  {"niece", "niece"},
                                  {"nephew", "nephew"},
                                  {"stepmom", "stepmother"},
                                  {"stepdad", "stepfather"},
                                  {"granddaughter", "granddaughter"},
                                  {"grandson", "grandson"}};
  auto it = m.find(w);
  return it == m.end() ? std::string_view() : it->second;
}

std::string_view SpeciesOf(std::string_view w) {
  static const auto& m = *new Map{{"dog", "dog"},
                                  {"puppy", "dog"},
                                  {"pup", "dog"},
                                  {"cat", "cat"},
                                  {"kitten", "cat"},
                                  {"kitty", "cat"},
                                  {"parrot", "parrot"},
                                  {"rabbit", "rabbit"},
                                  {"bunny", "rabbit"},
                                  {"hamster", "hamster"},
                                  {"goldfish", "goldfish"},
                                  {"turtle", "turtle"},
                                  {"tortoise", "tortoise"},
                                  {"horse", "horse"},
                                  {"pony", "pony"},
                                  {"budgie", "budgie"},
                                  {"lizard", "lizard"},
                                  {"gecko", "gecko"},
                                  {"snake", "snake"},
                                  {"ferret", "ferret"},
                                  {"hedgehog", "hedgehog"},
                                  {"chinchilla", "chinchilla"},
                                  {"iguana", "iguana"},
                                  {"cockatiel", "cockatiel"},
                                  {"dogs", "dog"},
                                  {"cats", "cat"},
                                  {"pig", "pig"}};
  auto it = m.find(w);
  return it == m.end() ? std::string_view() : it->second;
}

Candidate DateFact(const std::string& name, const std::string& key, const std::string& day,
                   double confidence) {
  const size_t space = day.find(' ');
  return MakeCandidate(
      Kind::kFact,
      name + "'s " + key + " is on " + Capitalised(day.substr(0, space)) + day.substr(space), key,
      day, 1, confidence);
}

std::string MonthDay(const std::vector<Word>& ws, size_t first, size_t last) {
  std::string_view month;
  int day = 0;
  for (size_t k = first; k <= last && k < ws.size(); ++k) {
    const std::string& w = ws[k].lower;
    if (auto it = Months().find(w); it != Months().end() && month.empty()) {
      if (w == "may" && !ws[k].capitalised) continue;  // "may" the verb
      month = it->second;
      continue;
    }
    size_t digits = 0;
    while (digits < w.size() && w[digits] >= '0' && w[digits] <= '9') ++digits;
    if (digits == 0 || digits > 2 || day != 0) continue;
    const std::string_view suffix = std::string_view(w).substr(digits);
    if (!suffix.empty() && suffix != "st" && suffix != "nd" && suffix != "rd" && suffix != "th")
      continue;
    const int d = std::stoi(w.substr(0, digits));
    if (d >= 1 && d <= 31) day = d;
  }
  if (month.empty() || day == 0) return "";
  return std::string(month) + " " + std::to_string(day);
}

void MatchLifeEvents(const Clause& clause, std::vector<Candidate>* out, size_t clause_first) {
  LifeMatcher(clause, out, clause_first).Run();
}

}  // namespace mnemo::write::internal
