// Consolidation: deciding, for a candidate memory, whether it is new, a contradiction of
// something known (supersede), a better wording of it (merge), or already known (noop).
// Never deletes: superseded memories keep their history and get their validity closed.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "write/derived.h"

namespace mnemo::write {

// MinHash over word shingles, for near-duplicate detection (e.g. an LSH index).
// Shingles are pairs of consecutive words (lower-cased, punctuation removed, stop words
// kept); texts of fewer than 4 words add their single words. Each of the kMinHashSize
// values is the minimum of a fixed seeded 64-bit hash over the shingles: identical on every
// run and platform, so signatures may be stored.
constexpr size_t kMinHashSize = 64;
using MinHash = std::vector<uint64_t>;          // kMinHashSize values; empty text: all max
MinHash ComputeMinHash(std::string_view text);  // case- and punctuation-insensitive
// The fraction of equal values; 0 when either signature is of an empty text or malformed.
double EstimateJaccard(const MinHash& a, const MinHash& b);

// A memory of the same user that may be about the same thing (found by exact hash,
// slot, near-duplicate or vector + entity similarity).
struct Neighbour {
  MemoryId id = 0;
  Kind kind = Kind::kFact;
  std::string text;
  std::string subject;
  std::string slot;
  std::string value;
  int polarity = 1;
  std::vector<std::string> entities;
  double vector_similarity = 0;  // cosine, 0 when unknown
  TimeMs time = 0;               // event time (or creation) of the neighbour
};

struct Outcome {
  Decision decision = Decision::kAdd;
  MemoryId target = 0;      // the neighbour superseded, merged into or already known
  std::string merged_text;  // kMerge: the target's new text
  std::string reason;       // recorded in history: why, in words ("same slot home_city: ...")
};

// Deterministic rules (no model). `neighbours` are active (not retired) memories; the
// candidate's words are compared case- and punctuation-insensitively.
//  1. Slot (candidate has a slot, and neighbours share subject and slot): the slot's value
//     as of candidate_time is the latest neighbour not after it (ties: higher id).
//     - same value and polarity -> noop on it (merge when the candidate's words strictly
//       contain the neighbour's: same fact, more detail);
//     - another value or polarity -> supersede it ("slot home_city of caroline: "boston"
//       (#12, 2023-01-02) -> "paris" (2023-06-01)"); an equal time counts as newer, as
//       ingestion follows the conversation;
//     - all slot neighbours are newer: noop if one agrees, else add without superseding
//       (the candidate is history: closing a newer value would rewrite time).
//  2. Same words as a neighbour -> noop.
//  3. Near-duplicate (shingle Jaccard >= 0.8, or one text's words contained in the
//     other's when the smaller has >= 3 words and the larger at most twice as many; same
//     subject when both have one, same polarity, negation words on both sides or none):
//     noop when the neighbour says at least as much; merge (merged_text = candidate text)
//     when the candidate's words are a strict superset, or the same words with strictly
//     more entities. Best target: a noop target before a merge target, then exact words,
//     higher similarity, higher vector_similarity, lower id.
//  4. Else add.
// Reasons name the rule, the target id, and for slots the old and new value.
Outcome DecideByRules(const Candidate& candidate, TimeMs candidate_time,
                      const std::vector<Neighbour>& neighbours);

}  // namespace mnemo::write
