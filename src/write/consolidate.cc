#include "write/consolidate.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <limits>
#include <optional>
#include <set>

#include "text/analyzer.h"
#include "util/time_util.h"

namespace mnemo::write {
namespace {

// Texts with fewer words than this also contribute their single words as shingles:
// "Caroline likes hiking" has only two word pairs, too few to compare reliably.
constexpr size_t kUnigramBelowWords = 4;
// Shingle-set Jaccard from which two texts count as near-duplicates.
constexpr double kNearDuplicateJaccard = 0.8;
// Word-set containment counts as a near-duplicate only when the smaller text has at
// least this many words and the larger one at most kMaxGrowth times as many: "Caroline
// moved to Boston" is a less detailed "Caroline moved to Boston in May 2023", but not of a
// whole paragraph that happens to contain those words.
constexpr size_t kMinContainedWords = 3;
constexpr size_t kMaxGrowth = 2;

// Hashes are written out (no std::hash) so that MinHash values are identical on every
// platform and standard library, and can be stored.
uint64_t Fnv1a64(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t Mix64(uint64_t x) {  // the SplitMix64 finaliser: a bijection with good avalanche
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Seeds of the kMinHashSize hash functions h_i(x) = Mix64(x ^ seed_i); fixed constants,
// never derived from anything that could change between runs.
uint64_t Seed(size_t i) { return Mix64(0x6d6e656d6f4d4831ULL + 0x9e3779b97f4a7c15ULL * i); }

// Lower-cased words with punctuation removed (the analyzer's word rules, stop words kept:
// "not" and "in" matter when comparing statements).
std::vector<std::string> NormalWords(std::string_view text) { return text::Words(text); }

// The base hashes of the text's shingles, sorted and unique. Unigrams and bigrams are
// tagged differently so that a one-word text never collides with a pair.
std::vector<uint64_t> ShingleHashes(const std::vector<std::string>& words) {
  std::vector<uint64_t> out;
  if (words.size() < kUnigramBelowWords) {
    for (const auto& w : words) out.push_back(Fnv1a64(w, Fnv1a64("\x01")));
  }
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    uint64_t h = Fnv1a64(words[i], Fnv1a64("\x02"));
    h = Fnv1a64("\x1f", h);
    out.push_back(Fnv1a64(words[i + 1], h));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double Jaccard(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  if (a.empty() || b.empty()) return 0;
  std::vector<uint64_t> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  const size_t uni = a.size() + b.size() - common.size();
  return static_cast<double>(common.size()) / static_cast<double>(uni);
}

bool IsNegation(const std::string& w) {
  static const std::set<std::string>& kNegations = *new std::set<std::string>{
      "no",      "not",    "never",  "nor",     "neither",   "cannot",   "don't",   "doesn't",
      "didn't",  "isn't",  "wasn't", "aren't",  "weren't",   "won't",    "can't",   "hasn't",
      "haven't", "hadn't", "nobody", "nothing", "shouldn't", "wouldn't", "couldn't"};
  return kNegations.count(w) > 0;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Trimmed(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

// How a text compares with a neighbour's, word for word.
struct TextComparison {
  bool exact = false;  // same words in the same order
  bool near_duplicate = false;
  bool candidate_more = false;  // a near-duplicate saying all the neighbour says, and more
  bool more_words = false;      // the candidate's words strictly contain the neighbour's
  double similarity = 0;        // shingle Jaccard
};

struct TextWords {
  std::vector<std::string> seq;
  std::set<std::string> set;
  std::vector<uint64_t> shingles;
  bool negated = false;
  explicit TextWords(std::string_view text) : seq(NormalWords(text)), set(seq.begin(), seq.end()) {
    shingles = ShingleHashes(seq);
    negated = std::any_of(seq.begin(), seq.end(), IsNegation);
  }
};

bool Includes(const std::set<std::string>& big, const std::set<std::string>& small) {
  return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

std::set<std::string> LowerSet(const std::vector<std::string>& v) {
  std::set<std::string> out;
  for (const auto& s : v) out.insert(Lower(Trimmed(s)));
  out.erase("");
  return out;
}

TextComparison Compare(const TextWords& c, const std::vector<std::string>& c_entities,
                       const Neighbour& n) {
  TextComparison r;
  const TextWords nw(n.text);
  if (c.seq.empty() || nw.seq.empty()) return r;
  r.exact = c.seq == nw.seq;
  r.similarity = r.exact ? 1.0 : Jaccard(c.shingles, nw.shingles);
  // A negation on one side only is a different statement however similar the wording.
  if (c.negated != nw.negated) return r;
  const bool c_covers_n = Includes(c.set, nw.set);
  const bool n_covers_c = Includes(nw.set, c.set);
  const auto contained = [](const std::set<std::string>& small, const std::set<std::string>& big) {
    return small.size() >= kMinContainedWords && big.size() <= kMaxGrowth * small.size();
  };
  r.near_duplicate = r.exact || r.similarity >= kNearDuplicateJaccard ||
                     (c_covers_n && contained(nw.set, c.set)) ||
                     (n_covers_c && contained(c.set, nw.set));
  r.more_words = c_covers_n && c.set.size() > nw.set.size();
  const std::set<std::string> ce = LowerSet(c_entities), ne = LowerSet(n.entities);
  const bool more_entities = c.set == nw.set && ce.size() > ne.size() && Includes(ce, ne);
  r.candidate_more = r.near_duplicate && (r.more_words || more_entities);
  return r;
}

std::string Describe(const std::string& value, int polarity) {
  if (value.empty()) return polarity < 0 ? "negated" : "asserted";
  return (polarity < 0 ? "not \"" : "\"") + value + "\"";
}

std::string Day(TimeMs t) { return util::FormatIso8601(t).substr(0, 10); }

std::string Ref(MemoryId id) { return "#" + std::to_string(id); }

std::string Percent(double x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

// Same subject and slot, value compared case- and space-insensitively.
Outcome DecideBySlot(const Candidate& c, const TextWords& cw, TimeMs candidate_time,
                     const std::vector<const Neighbour*>& slot_mates) {
  const std::string value = Lower(Trimmed(c.value));
  const auto agrees = [&](const Neighbour& n) {
    return Lower(Trimmed(n.value)) == value && (n.polarity < 0) == (c.polarity < 0);
  };
  const std::string what = "slot " + c.slot + " of " + (c.subject.empty() ? "?" : c.subject);
  // The slot's value as of the candidate's time: the latest neighbour not after it (ties:
  // the higher id, created later). Newer neighbours are not touched: they won already.
  const Neighbour* current = nullptr;
  for (const Neighbour* n : slot_mates) {
    if (n->time > candidate_time) continue;
    if (!current || n->time > current->time || (n->time == current->time && n->id > current->id)) {
      current = n;
    }
  }
  Outcome out;
  if (current && agrees(*current)) {
    const TextComparison cmp = Compare(cw, c.entities, *current);
    out.target = current->id;
    // The agreeing value already makes them the same fact: any amount of extra detail in
    // the candidate improves it (no length limit as for plain near-duplicates).
    if (cmp.more_words || cmp.candidate_more) {
      out.decision = Decision::kMerge;
      out.merged_text = c.text;
      out.reason = what + ": same value " + Describe(value, c.polarity) + " as " +
                   Ref(current->id) + ", stated with more detail: merged";
    } else {
      out.decision = Decision::kNoop;
      out.reason = what + ": already known as " + Describe(value, c.polarity) + " (" +
                   Ref(current->id) + ")";
    }
    return out;
  }
  if (current) {
    out.decision = Decision::kSupersede;
    out.target = current->id;
    out.reason = what + ": " + Describe(Lower(Trimmed(current->value)), current->polarity) + " (" +
                 Ref(current->id) + ", " + Day(current->time) + ") -> " +
                 Describe(value, c.polarity) + " (" + Day(candidate_time) + ")";
    return out;
  }
  // Every slot mate is newer than the candidate: an agreeing one already knows it; a
  // conflicting one is the present, and the candidate is the past. It is stored as
  // history without closing anything, since superseding a newer value would rewrite time.
  const Neighbour* newest = nullptr;
  for (const Neighbour* n : slot_mates) {
    if (agrees(*n)) {
      out.decision = Decision::kNoop;
      out.target = n->id;
      out.reason =
          what + ": already known as " + Describe(value, c.polarity) + " (" + Ref(n->id) + ")";
      return out;
    }
    if (!newest || n->time > newest->time || (n->time == newest->time && n->id > newest->id)) {
      newest = n;
    }
  }
  out.decision = Decision::kAdd;
  out.reason = what + ": " + Describe(value, c.polarity) + " (" + Day(candidate_time) +
               ") is older than " + Describe(Lower(Trimmed(newest->value)), newest->polarity) +
               " (" + Ref(newest->id) + ", " + Day(newest->time) + "): kept as history";
  return out;
}

}  // namespace

MinHash ComputeMinHash(std::string_view text) {
  MinHash sig(kMinHashSize, std::numeric_limits<uint64_t>::max());
  for (uint64_t base : ShingleHashes(NormalWords(text))) {
    for (size_t i = 0; i < kMinHashSize; ++i) sig[i] = std::min(sig[i], Mix64(base ^ Seed(i)));
  }
  return sig;
}

double EstimateJaccard(const MinHash& a, const MinHash& b) {
  if (a.size() != kMinHashSize || b.size() != kMinHashSize) return 0;
  // An all-max signature is an empty text: it resembles nothing, not even another one.
  const auto empty = [](const MinHash& m) {
    return std::all_of(m.begin(), m.end(),
                       [](uint64_t v) { return v == std::numeric_limits<uint64_t>::max(); });
  };
  if (empty(a) || empty(b)) return 0;
  size_t equal = 0;
  for (size_t i = 0; i < kMinHashSize; ++i) equal += a[i] == b[i];
  return static_cast<double>(equal) / static_cast<double>(kMinHashSize);
}

Outcome DecideByRules(const Candidate& candidate, TimeMs candidate_time,
                      const std::vector<Neighbour>& neighbours) {
  const TextWords cw(candidate.text);
  const std::string subject = Lower(Trimmed(candidate.subject));

  // 1. An attribute: the slot decides (contradiction, repetition or history).
  if (!candidate.slot.empty()) {
    std::vector<const Neighbour*> slot_mates;
    for (const auto& n : neighbours) {
      if (n.slot == candidate.slot && Lower(Trimmed(n.subject)) == subject) {
        slot_mates.push_back(&n);
      }
    }
    if (!slot_mates.empty()) return DecideBySlot(candidate, cw, candidate_time, slot_mates);
  }

  // 2./3. The same words, or nearly: the best match wins (highest similarity, then vector
  // similarity, then the lower id), preferring a neighbour that already says everything
  // (noop) over one the candidate improves (merge).
  struct Match {
    const Neighbour* n;
    TextComparison cmp;
  };
  std::optional<Match> best_known, best_improvable;
  const auto better = [](const Match& a, const std::optional<Match>& b) {
    if (!b) return true;
    if (a.cmp.exact != b->cmp.exact) return a.cmp.exact;
    if (a.cmp.similarity != b->cmp.similarity) return a.cmp.similarity > b->cmp.similarity;
    if (a.n->vector_similarity != b->n->vector_similarity) {
      return a.n->vector_similarity > b->n->vector_similarity;
    }
    return a.n->id < b->n->id;
  };
  for (const auto& n : neighbours) {
    const std::string ns = Lower(Trimmed(n.subject));
    if (!subject.empty() && !ns.empty() && ns != subject) continue;
    if ((n.polarity < 0) != (candidate.polarity < 0)) continue;
    const Match m{&n, Compare(cw, candidate.entities, n)};
    if (!m.cmp.near_duplicate) continue;
    auto& slot = m.cmp.candidate_more ? best_improvable : best_known;
    if (better(m, slot)) slot = m;
  }
  Outcome out;
  if (best_known) {
    out.decision = Decision::kNoop;
    out.target = best_known->n->id;
    out.reason = best_known->cmp.exact
                     ? "same text as " + Ref(out.target)
                     : "near-duplicate of " + Ref(out.target) + " (similarity " +
                           Percent(best_known->cmp.similarity) + "): already known";
    return out;
  }
  if (best_improvable) {
    out.decision = Decision::kMerge;
    out.target = best_improvable->n->id;
    out.merged_text = candidate.text;
    out.reason = "near-duplicate of " + Ref(out.target) + " (similarity " +
                 Percent(best_improvable->cmp.similarity) + ") with more detail: merged";
    return out;
  }
  out.decision = Decision::kAdd;
  out.reason = candidate.slot.empty()
                   ? "new: no known memory says the same"
                   : "new: first value " +
                         Describe(Lower(Trimmed(candidate.value)), candidate.polarity) +
                         " in slot " + candidate.slot + " of " + (subject.empty() ? "?" : subject);
  return out;
}

}  // namespace mnemo::write
