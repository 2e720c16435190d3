// The write transaction that keeps the in-memory indexes in step with SQLite, and the
// lexical index of a space: open (snapshot + log replay, or rebuild), apply, candidates.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "engine/space.h"
#include "store/memory_store.h"

namespace mnemo::engine {
namespace {

// Rows read and analyzed per step of a replay or rebuild.
constexpr size_t kReplayChunk = 4096;
// A filter's SQLite part is turned into an allow list when at most this many memories
// pass it; beyond, the best lexical hits are checked instead.
constexpr size_t kAllowListLimit = 50000;

}  // namespace

std::string LexicalPath(const std::string& dir) { return dir + "/lexical.idx"; }

index::LexicalFilter ToLexicalFilter(const Filter& f) {
  index::LexicalFilter lf;
  lf.user = f.user_id;
  lf.kinds = f.kinds;
  // The bi-temporal views decide on retired memories themselves (in SQLite).
  lf.include_retired = f.include_retired || f.as_of.has_value() || f.valid_at.has_value();
  lf.include_archived = f.include_archived;
  lf.quarantined = f.quarantined;
  lf.labels = f.labels;
  lf.exclude_labels = f.exclude_labels;
  lf.agent = f.agent_id;
  lf.session = f.session_id;
  lf.time_from = f.time_from;
  lf.time_to = f.time_to;
  return lf;
}

namespace {

// The memory each of `ids` follows in its session ("next" links ending there).
Result<std::unordered_map<MemoryId, MemoryId>> PreviousInSession(store::Db& db,
                                                                 const std::vector<MemoryId>& ids) {
  std::unordered_map<MemoryId, MemoryId> out;
  MNEMO_ASSIGN_OR_RETURN(auto links, store::LinksTouching(db, ids, LinkType::kNext));
  for (const Link& l : links) out[l.to] = l.from;
  return out;
}

}  // namespace

// ---- WriteTxn ----------------------------------------------------------------------------

Space::WriteTxn::WriteTxn(Space* space)
    : space_(space),
      lock_(space->write_mu_),
      txn_(space->writer_.get()),
      saved_last_id_(space->last_id_) {}

Space::WriteTxn::~WriteTxn() {
  if (committed_) return;
  space_->last_id_ = saved_last_id_;
  space_->writer_->journal().Clear();
  // txn_ rolls back in its own destructor.
}

Status Space::WriteTxn::Begin() {
  space_->writer_->journal().Clear();
  return txn_.Begin();
}

Status Space::WriteTxn::Commit() {
  MNEMO_RETURN_IF_ERROR(txn_.Commit());
  committed_ = true;
  space_->ApplyJournal();
  space_->ApplyToIndex(changes_);
  return Status::Ok();
}

void Space::ApplyJournal() {
  store::ChangeJournal j;
  std::swap(j, writer_->journal());
  if (j.empty()) return;
  std::unordered_set<MemoryId> erased(j.erased.begin(), j.erased.end());
  std::unordered_map<MemoryId, MemoryId> prev;
  for (const auto& [from, to] : j.next_links) prev[to] = from;
  // The last row written of each id, in the order ids were first written (a session's
  // earlier message is indexed before the one that follows it).
  std::unordered_map<MemoryId, size_t> last;
  std::vector<MemoryId> order;
  for (size_t i = 0; i < j.rows.size(); ++i) {
    auto [it, inserted] = last.emplace(j.rows[i].id, i);
    if (inserted) {
      order.push_back(j.rows[i].id);
    } else {
      it->second = i;
    }
  }
  std::vector<index::LexicalDoc> docs;
  docs.reserve(order.size() + j.reread.size());
  for (MemoryId id : order) {
    if (erased.count(id)) continue;
    auto p = prev.find(id);
    docs.push_back(index::AnalyzeMemory(j.rows[last[id]], p == prev.end() ? 0 : p->second));
  }
  for (MemoryId id : j.reread) {
    if (erased.count(id) || last.count(id)) continue;
    auto m = store::GetMemory(*writer_, id);  // committed: read back under write_mu_
    if (!m.ok()) {
      Log(LogLevel::kWarning, "space '" + name_ + "': lexical index: cannot read memory " +
                                  std::to_string(id) + ": " + m.status().ToString() +
                                  " (the next open rebuilds it from the log)");
      continue;
    }
    if (*m) docs.push_back(index::AnalyzeMemory(**m, 0));
  }
  std::vector<MemoryId> gone(j.erased.begin(), j.erased.end());
  const auto changed = static_cast<int64_t>(docs.size() + gone.size());
  lexical_->Apply(j.last_seq, std::move(docs), gone);
  lexical_changes_ += changed;
}

// ---- open ----------------------------------------------------------------------------------

Status Space::OpenLexical() {
  store::Db& db = *writer_;
  auto loaded = index::LexicalIndex::Load(LexicalPath(dir_));
  if (loaded.ok()) {
    lexical_ = std::move(loaded).value();
    lexical_disk_seq_ = lexical_->applied_seq();
    MNEMO_ASSIGN_OR_RETURN(auto log,
                           store::ReadIndexLog(db, lexical_->applied_seq(), /*with_rows=*/true));
    // Seqs are consecutive: a log that starts after applied_seq + 1 was truncated past the
    // snapshot (it cannot be replayed).
    MNEMO_ASSIGN_OR_RETURN(const int64_t max_seq, store::MaxIndexSeq(db));
    const int64_t first = log.empty() ? max_seq + 1 : log.front().seq;
    if (first > lexical_->applied_seq() + 1) {
      Log(LogLevel::kWarning, "space '" + name_ +
                                  "': the index log no longer reaches back to "
                                  "the lexical index snapshot (seq " +
                                  std::to_string(lexical_->applied_seq()) +
                                  "); rebuilding it from SQLite");
      return RebuildLexical(db);
    }
    if (log.empty()) return Status::Ok();
    // Each id once, as it is now (the log says what changed, the table what it became).
    std::vector<MemoryId> ids;
    std::unordered_set<MemoryId> seen;
    for (const auto& e : log) {
      if (seen.insert(e.id).second) ids.push_back(e.id);
    }
    for (size_t from = 0; from < ids.size(); from += kReplayChunk) {
      const std::vector<MemoryId> part(
          ids.begin() + static_cast<ptrdiff_t>(from),
          ids.begin() + static_cast<ptrdiff_t>(std::min(ids.size(), from + kReplayChunk)));
      MNEMO_ASSIGN_OR_RETURN(auto prev, PreviousInSession(db, part));
      std::vector<index::LexicalDoc> docs;
      std::vector<MemoryId> gone;
      for (MemoryId id : part) {
        MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(db, id));
        if (!m) {
          gone.push_back(id);
          continue;
        }
        auto p = prev.find(id);
        docs.push_back(index::AnalyzeMemory(*m, p == prev.end() ? 0 : p->second));
      }
      lexical_->Apply(0, std::move(docs), gone);
    }
    lexical_->Apply(log.back().seq, {}, {});
    lexical_changes_ += static_cast<int64_t>(ids.size());
    return Status::Ok();
  }
  MNEMO_ASSIGN_OR_RETURN(auto recorded, store::GetMeta(db, "lexical_seq"));
  if (recorded || loaded.status().code() != StatusCode::kNotFound) {
    Log(LogLevel::kWarning, "space '" + name_ + "': lexical index snapshot unusable (" +
                                loaded.status().message() + "); rebuilding it from SQLite");
  }
  return RebuildLexical(db);
}

Status Space::RebuildLexical(store::Db& db) {
  lexical_ = index::LexicalIndex::Create();
  MNEMO_ASSIGN_OR_RETURN(const int64_t seq, store::MaxIndexSeq(db));
  std::unordered_map<MemoryId, MemoryId> prev;
  MNEMO_RETURN_IF_ERROR(store::ForEachLinkOf(db, LinkType::kNext,
                                             [&](MemoryId from, MemoryId to) { prev[to] = from; }));
  std::vector<index::LexicalDoc> docs;
  int64_t n = 0;
  MNEMO_RETURN_IF_ERROR(store::ForEachMemory(db, [&](const Memory& m, std::string_view) {
    auto p = prev.find(m.id);
    docs.push_back(index::AnalyzeMemory(m, p == prev.end() ? 0 : p->second));
    ++n;
    if (docs.size() >= kReplayChunk) {
      lexical_->Apply(0, std::move(docs), {});
      docs.clear();
    }
    return Status::Ok();
  }));
  lexical_->Apply(seq, std::move(docs), {});
  // A large rebuild is worth a snapshot soon (the indexer thread writes it).
  lexical_changes_ += n;
  if (n > 0) ctx_->notify_indexer();
  return Status::Ok();
}

// ---- search --------------------------------------------------------------------------------

Result<std::vector<index::LexicalHit>> Space::LexicalCandidates(
    store::Db& db, const index::LexicalIndex::View& view, const std::vector<std::string>& terms,
    const Filter& f, size_t k) {
  index::LexicalFilter lf = ToLexicalFilter(f);
  if (store::IndexEvaluates(f)) return view.Search(terms, lf, k);
  if (!f.tags.empty()) {
    // Tags are indexed in SQLite: a selective filter becomes an allow list.
    MNEMO_ASSIGN_OR_RETURN(auto ids, store::MatchingIds(db, f, kAllowListLimit + 1));
    if (ids.size() <= kAllowListLimit) {
      std::sort(ids.begin(), ids.end());
      lf.allow = &ids;
      return view.Search(terms, lf, k);
    }
  }
  // Otherwise the best hits are checked in SQLite, fetching more while too few pass.
  for (size_t fetch = k + 16;; fetch *= 4) {
    auto hits = view.Search(terms, lf, fetch);
    std::vector<MemoryId> ids;
    ids.reserve(hits.size());
    for (const auto& h : hits) ids.push_back(h.id);
    MNEMO_ASSIGN_OR_RETURN(const auto pass, store::PassingIds(db, ids, f));
    std::vector<index::LexicalHit> out;
    for (const auto& h : hits) {
      if (out.size() >= k) break;
      if (pass.count(h.id)) out.push_back(h);
    }
    if (out.size() >= k || hits.size() < fetch) return out;
  }
}

bool Space::SnapshotDue(int64_t every) const {
  const auto quarter = static_cast<int64_t>(lexical_->doc_count() / 4);
  return changes_since_snapshot() >= std::max(every, quarter);
}

}  // namespace mnemo::engine
