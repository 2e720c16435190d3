// The lexical index of one space: BM25 over the memories' text and speaker, with a
// score-bounded top-k (block-max MaxScore) so that a search reads a small part of the
// posting lists of common words, and the memory attributes that filters and query
// signals read (user, kind, state, tier, agent, session, event time, the session's
// previous and next message) — all in memory, none of it through SQLite on the search
// path. See README.md, "Lexical index".
//
// Partitions: postings are kept per (user, kind, hidden), each with its own term
// dictionary, so a user's search reads that user's postings only (user scoping is
// enforced inside the index), a search restricted to derived kinds skips the episodes,
// and a default search never walks retired, archived or quarantined memories (hidden),
// however many
// superseded facts accumulate. BM25 statistics
// (document count, document frequencies, average length) are those of the whole space,
// as in SQLite FTS5, so scores compare across users and kinds.
//
// Ranking: score(d) = sum over the query's distinct terms t present in d of
//   idf(t) * f * (k1 + 1) / (f + k1 * (1 - b + b * len(d) / avglen)),
// with f = tf_text(t, d) + 0.5 * tf_speaker(t, d), len(d) = 1 + the tokens of text and
// speaker, idf(t) = ln((N - df + 0.5) / (df + 0.5)) (floored at 1e-6), k1 = 1.2,
// b = 0.75: SQLite FTS5's bm25() with column weights 1 and 0.5, as mnemo used it (its
// third column held one scope token per row, hence the 1: it softens the length
// normalisation of short turns, and LoCoMo recall@5 is 0.011 lower without it).
// Search() returns exactly
// the top k of that score over the documents that pass the filter (ties by smaller id),
// which a test checks against exhaustive scoring.
//
// Durability: SQLite is the source of truth. The index is derived: it records the last
// change of the space's index log it holds (applied_seq), is saved as a checksummed
// snapshot, and on open is loaded and brought up to date by replaying the log — or
// rebuilt from the memories table when the snapshot is missing or damaged.
//
// Thread safety: all methods are safe to call concurrently. A View holds a shared lock
// for its lifetime; Apply() takes it exclusively (briefly: documents are analyzed by the
// caller, outside the lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/query.h"
#include "mnemo/status.h"

namespace mnemo::index {

// The analyzed form of one memory, built outside any lock by AnalyzeMemory().
struct LexicalDoc {
  MemoryId id = 0;
  std::string user;
  std::string session;
  std::string agent;
  Kind kind = Kind::kEpisode;
  bool retired = false;
  bool archived = false;
  bool quarantined = false;
  LabelSet labels = 0;
  std::optional<TimeMs> event_time;
  // The memory this one follows in its session (a "next" link ends here); 0: none.
  MemoryId prev_in_session = 0;
  // Distinct terms of text and speaker with f2 = 2 x tf_text + tf_speaker (<= 255).
  std::vector<std::pair<std::string, uint8_t>> terms;
  uint16_t length = 0;     // 1 + tokens of text and speaker (capped at 65535)
  uint64_t text_hash = 0;  // of text and speaker: an unchanged text is not re-indexed
};

// Analyzes `m` (text::ForEachTerm over text and speaker).
LexicalDoc AnalyzeMemory(const Memory& m, MemoryId prev_in_session);

// A filter the index evaluates itself. Empty fields do not filter.
struct LexicalFilter {
  std::string user;         // "" = every user
  std::vector<Kind> kinds;  // any of
  bool include_retired = false;
  bool include_archived = false;
  QuarantineFilter quarantined = QuarantineFilter::kExclude;
  LabelSet labels = 0;          // any of (0: no condition)
  LabelSet exclude_labels = 0;  // none of
  std::string agent;
  std::string session;
  std::optional<TimeMs> time_from;  // event_time >= time_from (none: excluded)
  std::optional<TimeMs> time_to;    // event_time <  time_to
  // When set: only these memories (the part of a filter SQLite evaluates: tags,
  // metadata, bi-temporal views). Sorted ascending.
  const std::vector<MemoryId>* allow = nullptr;
};

struct LexicalHit {
  MemoryId id = 0;
  double score = 0;
};

class LexicalIndex {
 public:
  static std::unique_ptr<LexicalIndex> Create();
  // Loads a snapshot written by Save(). kNotFound when the file does not exist,
  // kCorruption (never a crash) for any defect.
  static Result<std::unique_ptr<LexicalIndex>> Load(const std::string& path);
  ~LexicalIndex();
  LexicalIndex(const LexicalIndex&) = delete;
  LexicalIndex& operator=(const LexicalIndex&) = delete;

  // Writes a snapshot atomically (temp file, fsync, rename, directory fsync). The
  // serialisation runs under the shared lock (writers wait for the copy, not the disk).
  // Returns the applied seq it holds.
  Result<int64_t> Save(const std::string& path) const;

  // Applies one committed transaction's changes: `upserts` (new or changed memories)
  // and `erases` (memories that no longer exist), recording `seq` as applied when it is
  // larger. An upsert of an indexed memory replaces its terms (the index keeps each
  // memory's term list) only when its text, speaker, user, kind or event time changed;
  // otherwise it updates the attributes in place.
  void Apply(int64_t seq, std::vector<LexicalDoc> upserts, const std::vector<MemoryId>& erases);

  int64_t applied_seq() const;
  size_t doc_count() const;
  size_t MemoryBytes() const;

  // A consistent read of the index (shared lock held until destruction).
  class View;
  View Read() const;

 private:
  class Impl;
  explicit LexicalIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  // The last snapshot's size, to size the next one's buffer.
  mutable std::atomic<size_t> last_save_bytes_{0};
  mutable std::atomic<size_t> last_save_docs_{0};
};

class LexicalIndex::View {
 public:
  ~View();
  View(View&&) noexcept;
  View(const View&) = delete;
  View& operator=(const View&) = delete;

  // The top `k` memories by BM25 for the distinct `terms` among those passing `f`,
  // best first (ties: smaller id first). Memories matching no term are not returned.
  std::vector<LexicalHit> Search(const std::vector<std::string>& terms, const LexicalFilter& f,
                                 size_t k) const;
  // The terms among `terms` held by at most `fraction` of the indexed memories (the
  // others say little about which memory is meant, and have the longest posting lists).
  std::vector<std::string> Selective(const std::vector<std::string>& terms, double fraction) const;
  // BM25 of `terms` for each of `ids` that is indexed and matches at least one term, in
  // the order of `ids`.
  std::vector<LexicalHit> Score(const std::vector<std::string>& terms,
                                const std::vector<MemoryId>& ids) const;
  // Ids of the memories passing `f` (at most `limit`; ascending id within each user and
  // kind). `*more` is set when more than `limit` pass.
  std::vector<MemoryId> Matching(const LexicalFilter& f, size_t limit, bool* more) const;
  // The `n` most recently indexed memories passing `f`, newest first.
  std::vector<MemoryId> Latest(const LexicalFilter& f, size_t n) const;
  // Number of memories passing the user/kind/state part of `f` (an upper bound for `f`).
  size_t CountScope(const LexicalFilter& f) const;
  bool Passes(MemoryId id, const LexicalFilter& f) const;
  bool Contains(MemoryId id) const;

  // The session structure of conversation turns (ingest's "next" links).
  MemoryId Previous(MemoryId id) const;  // 0: none
  MemoryId Next(MemoryId id) const;      // 0: none
  // A number identifying the memory's (user, session); 0 when it has no session or is
  // not indexed.
  uint32_t SessionKey(MemoryId id) const;
  std::optional<TimeMs> EventTime(MemoryId id) const;

 private:
  friend class LexicalIndex;
  explicit View(const Impl* impl);
  const Impl* impl_;
};

}  // namespace mnemo::index
