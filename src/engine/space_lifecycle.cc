// The lifecycle of a space's memories (docs/lifecycle.md): recalls reinforce them,
// expiry retires them and the purge policy erases them, and the tiers move them between a
// session's working set, short-term, long-term and the archive. The background thread
// runs Maintain every LifecycleOptions::maintenance_interval_ms; reads retire what has
// expired before they answer.
#include <algorithm>
#include <climits>

#include "engine/space.h"
#include "lifecycle/retention.h"
#include "store/lifecycle_store.h"
#include "store/memory_store.h"
#include "util/json_codec.h"
#include "util/time_util.h"

namespace mnemo::engine {
namespace {

// Counted recalls are saved between maintenance passes once this many memories wait, but
// not more often than every kRecallFlushMs: every commit makes each reader connection drop
// its page cache and memory map (SQLite's WAL change check), so a busy search load would
// otherwise pay for its own bookkeeping in page faults. Past kMaxPendingRecalls they are
// saved at once (the map's memory stays bounded).
constexpr size_t kFlushAtRecalls = 4096;
constexpr TimeMs kRecallFlushMs = 5000;
constexpr size_t kMaxPendingRecalls = 262144;
// Rows one expiry or purge transaction handles (the rest go in the next ones).
constexpr size_t kBatch = 2000;

lifecycle::RecallState StateOf(const store::TierRow& r) {
  return lifecycle::RecallState{r.importance,  r.strength,   r.access_count,
                                r.last_access, r.created_at, r.bytes};
}

}  // namespace

std::optional<TimeMs> Space::KindExpiry(Kind kind, TimeMs now) const {
  auto it = lifecycle_->ttl_ms.find(kind);
  if (it == lifecycle_->ttl_ms.end() || it->second <= 0) return std::nullopt;
  return now + it->second;  // both bounded (kMaxTtlMs): no overflow
}

std::optional<TimeMs> Space::ExpiryFor(const MemoryInput& in, TimeMs now) const {
  if (in.expires_at) return in.expires_at;
  if (in.ttl_ms) return now + *in.ttl_ms;
  return KindExpiry(in.kind, now);
}

Status Space::ScheduleSummaryRefresh(store::Db& db, const Memory& m, TimeMs now) {
  if (!pipeline_->enabled || !pipeline_->summaries || m.kind != Kind::kEpisode ||
      m.session_id.empty()) {
    return Status::Ok();
  }
  return store::ScheduleJob(db, JobKind::kSummarize, m.user_id, m.session_id,
                            now + pipeline_->summary_wait_ms, store::kWaitingForQuiet, now);
}

void Space::NoteExpiry(TimeMs t) {
  TimeMs current = next_expiry_.load();
  while (t < current && !next_expiry_.compare_exchange_weak(current, t)) {
  }
}

Status Space::RefreshNextExpiry(store::Db& db) {
  MNEMO_ASSIGN_OR_RETURN(auto next, store::NextExpiry(db));
  next_expiry_.store(next.value_or(LLONG_MAX));
  return Status::Ok();
}

void Space::RecordRecalls(const std::vector<SearchHit>& hits, TimeMs now) {
  if (hits.empty()) return;
  std::lock_guard<std::mutex> lock(recalls_mu_);
  for (const auto& h : hits) {
    if (h.memory.state != State::kActive) continue;
    PendingRecall& p = pending_recalls_[h.memory.id];
    ++p.count;
    p.last = std::max(p.last, now);
  }
  pending_recall_count_.store(pending_recalls_.size());
}

Result<int64_t> Space::FlushRecalls(MaintenanceReport* report) {
  std::unordered_map<MemoryId, PendingRecall> batch;
  {
    std::lock_guard<std::mutex> lock(recalls_mu_);
    batch.swap(pending_recalls_);
    pending_recall_count_.store(0);
  }
  last_recall_flush_.store(Now());
  if (batch.empty()) return 0;
  int64_t saved = 0, unarchived = 0;
  WriteTxn txn(this);
  Status s = txn.Begin();
  store::Db& db = txn.db();
  for (const auto& [id, p] : batch) {
    if (!s.ok()) break;
    auto row = store::ActiveStrength(db, id);
    if (!row.ok()) {
      s = row.status();
      break;
    }
    if (!*row) continue;  // retired or erased since
    const auto [strength, tier] = **row;
    // A recalled archived memory is in use again: back to short-term.
    const Tier next = tier == Tier::kArchived ? Tier::kShortTerm : tier;
    s = store::SaveRecalls(db, id, p.count, p.last,
                           lifecycle::Reinforce(strength, p.count, *lifecycle_), tier, next);
    if (next != tier) ++unarchived;
    ++saved;
  }
  if (s.ok()) s = txn.Commit();
  if (!s.ok()) {
    // Keep them for the next pass rather than lose them.
    std::lock_guard<std::mutex> lock(recalls_mu_);
    for (const auto& [id, p] : batch) {
      PendingRecall& q = pending_recalls_[id];
      q.count += p.count;
      q.last = std::max(q.last, p.last);
    }
    pending_recall_count_.store(pending_recalls_.size());
    return s.WithContext("saving recalls");
  }
  report->recalls += saved;
  report->unarchived += unarchived;
  return saved;
}

void Space::ExpireIfDue() {
  if (Now() < next_expiry_.load()) return;
  auto r = Expire(Now());
  // A read does not fail for it (a busy or read-only database): the memories stay until
  // the next read or maintenance pass retires them.
  if (!r.ok()) {
    Log(LogLevel::kWarning,
        "space '" + name_ + "': retiring expired memories: " + r.status().ToString());
  }
}

Result<int64_t> Space::Expire(TimeMs now) {
  int64_t expired = 0;
  for (;;) {
    WriteTxn txn(this);
    MNEMO_RETURN_IF_ERROR(txn.Begin());
    store::Db& db = txn.db();
    MNEMO_ASSIGN_OR_RETURN(auto due, store::DueExpiries(db, now, kBatch));
    for (const auto& [id, at] : due) {
      MNEMO_ASSIGN_OR_RETURN(auto current, store::GetMemory(db, id));
      if (!current || current->state != State::kActive) continue;
      // Retired as of its expiry: it left every read then (reads expire first).
      MNEMO_RETURN_IF_ERROR(
          RetireOne(db, *current, at, now, "lifecycle", "expired at " + util::FormatIso8601(at)));
      // Its session's summary must not keep quoting it.
      MNEMO_RETURN_IF_ERROR(ScheduleSummaryRefresh(db, *current, now));
      ++expired;
    }
    if (due.size() < kBatch) MNEMO_RETURN_IF_ERROR(RefreshNextExpiry(db));
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    if (due.size() < kBatch) break;
  }
  return expired;
}

Result<int64_t> Space::PurgeExpired(store::Db& db, TimeMs now, std::vector<IndexChange>* changes,
                                    std::vector<std::string>* users) {
  const int64_t after = lifecycle_->purge_expired_after_ms;
  if (after < 0) return 0;
  MNEMO_ASSIGN_OR_RETURN(auto ids, store::ExpiredBefore(db, now - after, kBatch));
  int64_t purged = 0;
  for (MemoryId id : ids) {
    MNEMO_ASSIGN_OR_RETURN(auto current, store::GetMemory(db, id));
    if (!current) continue;
    // The memory alone: what was derived from it keeps its own lifetime (Purge, an
    // erasure request, takes the derived memories too).
    MNEMO_RETURN_IF_ERROR(
        EraseOne(db, *current,
                 "expired at " + util::FormatIso8601(current->expires_at.value_or(0)) +
                     "; erased by the purge policy (lifecycle.purge_expired_after_ms = " +
                     std::to_string(after) + ")",
                 changes));
    users->push_back(current->user_id);
    ++purged;
  }
  return purged;
}

Status Space::BoundWorkingSet(store::Db& db, const std::string& user, const std::string& session) {
  return store::BoundWorkingSet(db, user, session, lifecycle_->working_capacity).status();
}

Status Space::MoveTiers(store::Db& db, TimeMs now, MaintenanceReport* report) {
  const LifecycleOptions& o = *lifecycle_;
  MNEMO_ASSIGN_OR_RETURN(int64_t ended, store::EndIdleWorkingSets(db, now - o.working_idle_ms));
  report->to_short_term += ended;
  // Heat promotes and demotes between short- and long-term. Without a recall, heat is at
  // most 1 (retention <= 1), so only recalled short-term memories can reach a promotion
  // threshold above 1: the pass reads those and the long-term ones, not the space.
  MNEMO_ASSIGN_OR_RETURN(auto rows, store::HeatCandidates(db, o.promote_heat <= 1.0));
  for (const auto& r : rows) {
    const double heat = lifecycle::Heat(StateOf(r), now, o);
    if (r.tier == Tier::kShortTerm && heat >= o.promote_heat) {
      MNEMO_RETURN_IF_ERROR(store::SetTier(db, r.id, Tier::kLongTerm));
      ++report->to_long_term;
    } else if (r.tier == Tier::kLongTerm && heat < o.demote_heat) {
      MNEMO_RETURN_IF_ERROR(store::SetTier(db, r.id, Tier::kShortTerm));
      ++report->to_short_term;
    }
  }
  if (o.user_capacity <= 0) return Status::Ok();
  // Capacity: the coldest of a user's memories beyond it go to the archive (a session's
  // working set stays).
  MNEMO_ASSIGN_OR_RETURN(auto over, store::UsersOverCapacity(db, o.user_capacity));
  for (const auto& [user, count] : over) {
    MNEMO_ASSIGN_OR_RETURN(auto candidates, store::TierRows(db, user, /*archived=*/false));
    std::vector<std::pair<double, MemoryId>> by_heat;
    by_heat.reserve(candidates.size());
    for (const auto& r : candidates) {
      by_heat.emplace_back(lifecycle::Heat(StateOf(r), now, o), r.id);
    }
    std::sort(by_heat.begin(), by_heat.end());                         // coldest first; then oldest
    const auto excess = static_cast<size_t>(count - o.user_capacity);  // (working ones excluded)
    for (size_t i = 0; i < std::min(excess, by_heat.size()); ++i) {
      MNEMO_RETURN_IF_ERROR(store::SetTier(db, by_heat[i].second, Tier::kArchived));
      ++report->archived;
    }
  }
  return Status::Ok();
}

bool Space::MaintenanceDue() const {
  const TimeMs now = Now();
  return now >= next_maintenance_.load() || now >= next_expiry_.load();
}

bool Space::RecallsDue() const {
  const size_t pending = pending_recall_count_.load();
  return pending >= kMaxPendingRecalls ||
         (pending >= kFlushAtRecalls && Now() >= last_recall_flush_.load() + kRecallFlushMs);
}

Result<int64_t> Space::SaveRecalls() {
  MaintenanceReport unused;
  return FlushRecalls(&unused);
}

Result<MaintenanceReport> Space::Maintain() {
  MaintenanceReport report;
  int64_t purged = 0;
  const TimeMs now = Now();
  next_maintenance_.store(now + lifecycle_->maintenance_interval_ms);
  MNEMO_RETURN_IF_ERROR(FlushRecalls(&report).status());
  MNEMO_ASSIGN_OR_RETURN(report.expired, Expire(now));
  {
    std::vector<std::string> users;  // of the purged memories
    WriteTxn txn(this);
    MNEMO_RETURN_IF_ERROR(txn.Begin());
    store::Db& db = txn.db();
    MNEMO_ASSIGN_OR_RETURN(purged, PurgeExpired(db, now, txn.vector_changes(), &users));
    MNEMO_RETURN_IF_ERROR(MoveTiers(db, now, &report));
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    report.purged = purged;
    for (const auto& user : users) AdjustUserCount(user, -1);
    // As Purge: the WAL moves into the database and is truncated.
    if (purged > 0) MNEMO_RETURN_IF_ERROR(db.TruncateWal());
  }
  if (purged > 0) MNEMO_RETURN_IF_ERROR(Snapshot(/*min_changes=*/0));
  return report;
}

}  // namespace mnemo::engine
