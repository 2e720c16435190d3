#include "index/vector_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <iostream>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "index/fair_shared_mutex.h"
#include "index/hnsw_graph.h"
#include "index/quantize.h"
#include "index/snapshot_file.h"

namespace mnemo::index {
namespace {

// Changes applied to the graph per hold of the exclusive lock: about 64 inserts of a few
// tens of microseconds each, so a search waits a few milliseconds at most.
constexpr size_t kApplyBatch = 64;

// Vectors that entered the graph most recently are also scored exactly by Search():
// HNSW does not promise that every node is reachable (near-duplicates can end up with
// no incoming link), and a memory written a moment ago is the one most likely to be
// searched for. The scan costs about 0.1 ms at 256 dimensions.
constexpr size_t kRecentWindow = 2048;

// The index has no error channel for background work (IndexPending, malformed input to
// void methods), so it reports on stderr, one line per event.
void LogWarning(const std::string& message) {
  std::cerr << ("mnemo: vector index: " + message + "\n");
}

// Stored vectors are L2-normalised (the Embedder contract); normalising the query too
// turns dot products into cosine similarities. A zero query stays zero.
std::vector<float> Normalized(const std::vector<float>& v) {
  double norm2 = 0;
  for (float x : v) norm2 += double(x) * double(x);
  if (!(norm2 > 0) || !std::isfinite(norm2)) return v;
  const auto inv = float(1.0 / std::sqrt(norm2));
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] * inv;
  return out;
}

// Best effort: overwrite an erased vector before its memory is released.
void Wipe(std::string* s) {
  std::fill(s->begin(), s->end(), '\0');
  s->clear();
  s->shrink_to_fit();
}

bool MoreSimilar(const Neighbor& a, const Neighbor& b) {
  if (a.similarity != b.similarity) return a.similarity > b.similarity;
  return a.id < b.id;  // deterministic order among ties
}

}  // namespace

class VectorIndex::Impl {
 public:
  Impl(std::string embedder_id, int dimension, std::unique_ptr<HnswGraph> graph,
       int64_t applied_seq)
      : embedder_id_(std::move(embedder_id)),
        dimension_(dimension),
        blob_size_(QuantizedSize(dimension)),
        graph_(std::move(graph)),
        applied_seq_(applied_seq),
        last_seq_(applied_seq) {}

  // One entry of the change log, in seq order. The vector itself lives in pending_ so
  // that an erase has a single copy to wipe.
  struct Change {
    int64_t seq;
    MemoryId id;
    bool remove;
    bool erase;
  };
  // The latest pending state of one id: the vector to serve, or a removal marker.
  struct PendingState {
    int64_t seq = 0;
    bool removed = false;
    std::string blob;
  };

  const std::string embedder_id_;
  const int dimension_;
  const size_t blob_size_;

  // Lock order: graph_mu_ before pending_mu_. Upsert() and Remove() without erase take
  // only pending_mu_, so the write path never waits for graph insertion. Every reader
  // of the graph holds graph_mu_ shared for its whole operation; IndexPending() holds it
  // exclusively while it moves a batch, so a reader sees each change either in the
  // pending tail or in the graph, never in neither.
  mutable FairSharedMutex graph_mu_;
  std::unique_ptr<HnswGraph> graph_;  // protected by graph_mu_
  std::deque<MemoryId> recent_;       // last ids upserted into the graph; by graph_mu_
  // Written under graph_mu_ held exclusively, together with the graph; atomic so that
  // applied_seq() does not wait for a batch.
  std::atomic<int64_t> applied_seq_;

  mutable FairSharedMutex pending_mu_;
  std::deque<Change> fifo_;                             // protected by pending_mu_
  std::unordered_map<MemoryId, PendingState> pending_;  // protected by pending_mu_
  int64_t last_seq_;  // highest seq accepted; protected by pending_mu_
  // The seq of the vectors given to Seed() (-1: none), and how many of them are still
  // queued: while any is, the graph holds part of a rebuild and must not be saved.
  // Only seeded changes can carry seed_seq_ (AcceptSeq refuses an equal seq otherwise).
  std::atomic<int64_t> seed_seq_{-1};
  std::atomic<int64_t> seeds_queued_{0};

  // Serialises Save() calls, which share the `path`.tmp name.
  mutable std::mutex save_mu_;

  // Accepts `seq` if it is new; `allow_equal` for Seed(). Requires pending_mu_ held
  // exclusively.
  bool AcceptSeq(int64_t seq, bool allow_equal = false) {
    if (seq < last_seq_ || (seq == last_seq_ && !allow_equal)) return false;
    last_seq_ = seq;
    return true;
  }
};

VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VectorIndex::~VectorIndex() = default;

std::unique_ptr<VectorIndex> VectorIndex::Create(const std::string& embedder_id, int dimension) {
  if (dimension < 1) return nullptr;
  auto graph = HnswGraph::Create(dimension);
  if (!graph.ok()) {
    LogWarning(graph.status().ToString());
    return nullptr;
  }
  // The constructor is private, so make_unique cannot reach it; ownership is immediate.
  return std::unique_ptr<VectorIndex>(
      new VectorIndex(std::make_unique<Impl>(embedder_id, dimension, std::move(graph).value(), 0)));
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path,
                                                       const std::string& embedder_id,
                                                       int dimension) {
  if (dimension < 1) {
    return Status::InvalidArgument("vector index dimension must be positive, got " +
                                   std::to_string(dimension));
  }
  const std::string payload = TempPathNextTo(path, "load");
  ScopedFileRemover remove_payload(payload);
  MNEMO_ASSIGN_OR_RETURN(SnapshotInfo info,
                         ExtractSnapshotFile(path, embedder_id, dimension, payload));
  MNEMO_ASSIGN_OR_RETURN(auto graph,
                         HnswGraph::LoadFile(payload, dimension, "vector index snapshot " + path));
  return std::unique_ptr<VectorIndex>(new VectorIndex(
      std::make_unique<Impl>(embedder_id, dimension, std::move(graph), info.applied_seq)));
}

Result<SnapshotInfo> VectorIndex::Save(const std::string& path) const {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> serial(d.save_mu_);
  const std::string payload = TempPathNextTo(path, "hnsw");
  ScopedFileRemover remove_payload(payload);
  SnapshotInfo info{d.embedder_id_, d.dimension_, 0};
  if (rebuilding()) {
    // Its applied_seq could not name the part of the rebuild that is missing.
    return Status::FailedPrecondition("vector index snapshot " + path +
                                      ": the index is still being rebuilt");
  }
  uint64_t payload_size = 0;
  {
    // Shared: searches go on while hnswlib writes; IndexPending waits, so the graph
    // and applied_seq stay consistent with each other.
    std::shared_lock<FairSharedMutex> graph_lock(d.graph_mu_);
    info.applied_seq = d.applied_seq_.load();
    auto saved = d.graph_->SaveFile(payload);
    if (!saved.ok()) return saved.status().WithContext("vector index snapshot " + path);
    payload_size = *saved;
  }
  MNEMO_RETURN_IF_ERROR(WriteSnapshotFile(path, info, payload, payload_size)
                            .WithContext("vector index snapshot " + path));
  return info;
}

void VectorIndex::Upsert(int64_t seq, MemoryId id, std::string blob) {
  UpsertImpl(seq, id, std::move(blob), /*allow_equal_seq=*/false);
}

void VectorIndex::Seed(int64_t seq, MemoryId id, std::string blob) {
  UpsertImpl(seq, id, std::move(blob), /*allow_equal_seq=*/true);
}

bool VectorIndex::rebuilding() const { return impl_->seeds_queued_.load() > 0; }

void VectorIndex::UpsertImpl(int64_t seq, MemoryId id, std::string blob, bool allow_equal_seq) {
  Impl& d = *impl_;
  std::unique_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  if (!d.AcceptSeq(seq, allow_equal_seq)) return;  // a replay of a change we already have
  if (blob.size() != d.blob_size_) {
    pending_lock.unlock();
    LogWarning("ignoring vector of " + std::to_string(blob.size()) + " bytes for memory " +
               std::to_string(id) + " (seq " + std::to_string(seq) + "), expected " +
               std::to_string(d.blob_size_));
    return;
  }
  d.fifo_.push_back({seq, id, /*remove=*/false, /*erase=*/false});
  if (allow_equal_seq) {
    d.seed_seq_.store(seq);
    d.seeds_queued_.fetch_add(1);
  }
  Impl::PendingState& state = d.pending_[id];
  state.seq = seq;
  state.removed = false;
  state.blob = std::move(blob);
}

void VectorIndex::Remove(int64_t seq, MemoryId id, bool erase) {
  Impl& d = *impl_;
  // Erasing also zeroes the graph's copy now rather than when the removal is applied,
  // so that no snapshot taken from here on holds the vector.
  std::unique_lock<FairSharedMutex> graph_lock(d.graph_mu_, std::defer_lock);
  if (erase) graph_lock.lock();
  std::unique_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  if (!d.AcceptSeq(seq)) return;
  d.fifo_.push_back({seq, id, /*remove=*/true, erase});
  Impl::PendingState& state = d.pending_[id];
  state.seq = seq;
  state.removed = true;
  if (erase) {
    Wipe(&state.blob);
    d.graph_->ZeroVector(id);
  } else {
    state.blob.clear();
  }
}

size_t VectorIndex::IndexPending(size_t max_items) {
  Impl& d = *impl_;
  struct Work {
    Impl::Change change;
    bool latest;       // no later change of the same id is pending
    std::string blob;  // for a latest upsert
  };
  size_t moved = 0;
  std::vector<Work> batch;
  int64_t applied = 0;
  while (moved < max_items) {
    std::unique_lock<FairSharedMutex> graph_lock(d.graph_mu_);
    batch.clear();
    {
      std::unique_lock<FairSharedMutex> pending_lock(d.pending_mu_);
      const size_t limit = std::min(kApplyBatch, max_items - moved);
      while (batch.size() < limit && !d.fifo_.empty()) {
        const Impl::Change change = d.fifo_.front();
        d.fifo_.pop_front();
        auto it = d.pending_.find(change.id);
        const bool latest = it != d.pending_.end() && it->second.seq == change.seq;
        batch.push_back({change, latest, {}});
        if (latest && !change.remove) batch.back().blob = it->second.blob;
      }
      if (!batch.empty()) {
        // Seed() lets several changes share a seq: the seq counts as applied only once
        // the last change carrying it is, so a snapshot never skips part of a group.
        const int64_t last = batch.back().change.seq;
        applied = !d.fifo_.empty() && d.fifo_.front().seq == last ? last - 1 : last;
      }
    }
    if (batch.empty()) break;

    // Outside pending_mu_: graph insertion is the slow part, and Upsert() must not wait
    // for it. A change superseded by a later pending one is skipped: only the latest
    // state of an id matters, and the later change is still queued.
    for (const Work& work : batch) {
      if (!work.latest) continue;
      const Impl::Change& c = work.change;
      Status s = c.remove ? d.graph_->Remove(c.id) : d.graph_->Upsert(c.id, work.blob);
      if (c.remove && c.erase) d.graph_->ZeroVector(c.id);
      if (s.ok() && !c.remove) {
        d.recent_.push_back(c.id);
        if (d.recent_.size() > kRecentWindow) d.recent_.pop_front();
      }
      if (!s.ok()) {
        LogWarning("skipping change seq " + std::to_string(c.seq) + " of memory " +
                   std::to_string(c.id) + ": " + s.ToString());
      }
    }

    {
      std::unique_lock<FairSharedMutex> pending_lock(d.pending_mu_);
      for (const Work& work : batch) {
        if (!work.latest) continue;
        // An Upsert() or Remove() of the same id may have arrived meanwhile; keep it.
        auto it = d.pending_.find(work.change.id);
        if (it != d.pending_.end() && it->second.seq == work.change.seq) d.pending_.erase(it);
      }
    }
    if (applied > d.applied_seq_.load()) d.applied_seq_.store(applied);
    int64_t seeds = 0;
    for (const Work& work : batch) seeds += work.change.seq == d.seed_seq_.load() ? 1 : 0;
    if (seeds > 0) d.seeds_queued_.fetch_sub(seeds);
    moved += batch.size();
  }
  return moved;
}

std::vector<Neighbor> VectorIndex::Search(const std::vector<float>& query, size_t k,
                                          size_t ef) const {
  const Impl& d = *impl_;
  std::vector<Neighbor> out;
  if (k == 0 || query.size() != size_t(d.dimension_)) return out;
  const std::vector<float> q = Normalized(query);
  const std::string q_blob = Quantize(q);

  std::shared_lock<FairSharedMutex> graph_lock(d.graph_mu_);
  // Graph hits whose id has a pending change are stale (superseded or removed). When
  // they push the live hits below k, search again with twice the breadth, until the
  // graph has nothing more to give.
  for (size_t n = std::max(ef, k);; n *= 2) {
    auto hits = d.graph_->Search(q_blob, n);
    if (!hits.ok()) {
      LogWarning(hits.status().ToString());
      hits = std::vector<HnswGraph::Hit>();
    }
    std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
    out.clear();
    std::unordered_set<MemoryId> seen;
    for (const HnswGraph::Hit& hit : *hits) {
      seen.insert(hit.id);
      if (d.pending_.count(hit.id) != 0) continue;
      // Exact similarity to the float query, not the quantized one used for routing.
      out.push_back({hit.id, QuantizedDot(q, hit.blob)});
    }
    if (out.size() < k && hits->size() >= n && n < d.graph_->live_count()) continue;
    for (MemoryId id : d.recent_) {
      if (seen.count(id) != 0 || d.pending_.count(id) != 0) continue;
      if (auto blob = d.graph_->LiveVector(id)) {
        seen.insert(id);  // an id may appear twice in the window
        out.push_back({id, QuantizedDot(q, *blob)});
      }
    }
    for (const auto& [id, state] : d.pending_) {
      if (!state.removed) out.push_back({id, QuantizedDot(q, state.blob)});
    }
    break;
  }
  graph_lock.unlock();

  const size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + std::ptrdiff_t(keep), out.end(), MoreSimilar);
  out.resize(keep);
  return out;
}

std::vector<Neighbor> VectorIndex::ScanAll(const std::vector<float>& query, size_t k) const {
  const Impl& d = *impl_;
  std::vector<Neighbor> out;
  if (k == 0 || query.size() != size_t(d.dimension_)) return out;
  const std::vector<float> q = Normalized(query);
  // A heap of the best k so far, the least similar on top.
  out.reserve(k + 1);
  auto offer = [&](MemoryId id, std::string_view blob) {
    const Neighbor n{id, QuantizedDot(q, blob)};
    if (out.size() == k && !MoreSimilar(n, out.front())) return;
    out.push_back(n);
    std::push_heap(out.begin(), out.end(), MoreSimilar);
    if (out.size() > k) {
      std::pop_heap(out.begin(), out.end(), MoreSimilar);
      out.pop_back();
    }
  };
  std::shared_lock<FairSharedMutex> graph_lock(d.graph_mu_);
  std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  d.graph_->ForEachLive([&](MemoryId id, std::string_view blob) {
    if (d.pending_.count(id) == 0) offer(id, blob);  // else the pending state wins
  });
  for (const auto& [id, state] : d.pending_) {
    if (!state.removed) offer(id, state.blob);
  }
  pending_lock.unlock();
  graph_lock.unlock();
  std::sort_heap(out.begin(), out.end(), MoreSimilar);
  return out;
}

std::vector<Neighbor> VectorIndex::Score(const std::vector<float>& query,
                                         const std::vector<MemoryId>& ids) const {
  const Impl& d = *impl_;
  std::vector<Neighbor> out;
  if (query.size() != size_t(d.dimension_)) return out;
  const std::vector<float> q = Normalized(query);
  std::shared_lock<FairSharedMutex> graph_lock(d.graph_mu_);
  std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  for (MemoryId id : ids) {
    auto it = d.pending_.find(id);
    if (it != d.pending_.end()) {
      if (!it->second.removed) out.push_back({id, QuantizedDot(q, it->second.blob)});
      continue;
    }
    if (auto blob = d.graph_->LiveVector(id)) out.push_back({id, QuantizedDot(q, *blob)});
  }
  return out;
}

bool VectorIndex::Contains(MemoryId id) const {
  const Impl& d = *impl_;
  std::shared_lock<FairSharedMutex> graph_lock(d.graph_mu_);
  std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  auto it = d.pending_.find(id);
  if (it != d.pending_.end()) return !it->second.removed;
  return d.graph_->LiveVector(id).has_value();
}

size_t VectorIndex::indexed_count() const {
  std::shared_lock<FairSharedMutex> graph_lock(impl_->graph_mu_);
  return impl_->graph_->live_count();
}

size_t VectorIndex::pending_count() const {
  std::shared_lock<FairSharedMutex> pending_lock(impl_->pending_mu_);
  return impl_->fifo_.size();
}

size_t VectorIndex::pending_new_vectors() const {
  const Impl& d = *impl_;
  std::shared_lock<FairSharedMutex> graph_lock(d.graph_mu_);
  std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  size_t n = 0;
  for (const auto& [id, state] : d.pending_) {
    if (!state.removed && !d.graph_->LiveVector(id).has_value()) ++n;
  }
  return n;
}

int64_t VectorIndex::applied_seq() const { return impl_->applied_seq_.load(); }
int VectorIndex::dimension() const { return impl_->dimension_; }
const std::string& VectorIndex::embedder_id() const { return impl_->embedder_id_; }

}  // namespace mnemo::index
