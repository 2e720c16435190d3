#include "index/vector_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <iostream>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "index/fair_shared_mutex.h"
#include "index/hnsw.h"
#include "index/id_map.h"
#include "index/quantize.h"
#include "index/snapshot_file.h"

namespace mnemo::index {
namespace {

// Changes moved into the graph per step of IndexPending: large enough to share among
// threads, small enough that Save (which waits for the step) is not held up for long.
constexpr size_t kApplyBatch = 512;

// Vectors that entered the graph most recently are also scored exactly by Search():
// HNSW does not promise that every node is reachable (near-duplicates can end up with
// no incoming link), and a memory written a moment ago is the one most likely to be
// searched for. The scan costs about 15 us at 256 dimensions.
constexpr size_t kRecentWindow = 512;

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

// Keeps the first (best) entry of each id of a list sorted best first.
void Dedupe(std::vector<Neighbor>* out) {
  std::unordered_set<MemoryId> seen;
  std::erase_if(*out, [&](const Neighbor& n) { return !seen.insert(n.id).second; });
}

}  // namespace

class VectorIndex::Impl {
 public:
  Impl(std::string embedder_id, int dimension, std::unique_ptr<Hnsw> graph, int64_t applied_seq)
      : embedder_id_(std::move(embedder_id)),
        dimension_(dimension),
        blob_size_(QuantizedSize(dimension)),
        graph_(std::move(graph)),
        applied_seq_(applied_seq),
        last_seq_(applied_seq) {
    for (uint32_t node = 0; node < graph_->size(); ++node) {
      if (graph_->IsLive(node)) {
        node_of_.Put(graph_->IdOf(node), node);
      } else {
        stale_[graph_->IdOf(node)].push_back(node);
      }
    }
  }

  // Zeroes every vector the graph holds for `id` (its node and its replaced ones).
  // Requires erase_mu_ exclusively and map_mu_.
  void ZeroAll(MemoryId id) {
    const uint32_t live = node_of_.Find(id);
    if (live != kNoValue) graph_->ZeroVector(live);
    auto st = stale_.find(id);
    if (st != stale_.end()) {
      for (uint32_t node : st->second) graph_->ZeroVector(node);
    }
  }

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

  // The graph takes no lock to search or insert (hnsw.h). erase_mu_ is held shared by
  // every reader of vector bytes and exclusively to zero them (an erase), so no reader
  // sees a vector being wiped.
  const std::unique_ptr<Hnsw> graph_;
  mutable FairSharedMutex erase_mu_;
  // Serialises IndexPending steps with each other and with Save, so that a snapshot
  // holds the graph as of one applied seq.
  mutable std::mutex build_mu_;

  // Which node holds each id's vector; updated after a node is linked, before its id
  // leaves the pending tail.
  mutable FairSharedMutex map_mu_;
  IdMap node_of_;  // protected by map_mu_
  // Removed nodes by id (replaced by a new vector, or removed): they keep routing, and
  // keep their bytes until an erase zeroes them. Protected by map_mu_.
  std::unordered_map<MemoryId, std::vector<uint32_t>> stale_;
  std::deque<uint32_t> recent_;  // last nodes inserted; by map_mu_
  std::atomic<int64_t> applied_seq_;

  // Lock order: build_mu_, erase_mu_, pending_mu_, map_mu_. Readers take pending_mu_
  // before they search the graph: an id leaves the tail only once its node is linked, so a
  // reader sees each change in the tail or in the graph (or both), never in neither.
  mutable FairSharedMutex pending_mu_;
  std::deque<Change> fifo_;                             // protected by pending_mu_
  std::unordered_map<MemoryId, PendingState> pending_;  // protected by pending_mu_
  int64_t last_seq_;  // highest seq accepted; protected by pending_mu_
  std::atomic<int64_t> seed_seq_{-1};
  std::atomic<int64_t> seeds_queued_{0};
  // Changes taken from fifo_ by IndexPending and not applied yet (still pending).
  std::atomic<size_t> in_flight_{0};

  bool AcceptSeq(int64_t seq, bool allow_equal = false) {
    if (seq < last_seq_ || (seq == last_seq_ && !allow_equal)) return false;
    last_seq_ = seq;
    return true;
  }

  // The node of `id` if it is live.
  std::optional<uint32_t> LiveNode(MemoryId id) const {
    std::shared_lock<FairSharedMutex> lock(map_mu_);
    const uint32_t node = node_of_.Find(id);
    if (node == kNoValue || !graph_->IsLive(node)) return std::nullopt;
    return node;
  }
};

VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VectorIndex::~VectorIndex() = default;

std::unique_ptr<VectorIndex> VectorIndex::Create(const std::string& embedder_id, int dimension) {
  if (dimension < 1) return nullptr;
  Hnsw::Params p;
  p.m = kHnswM;
  p.ef_construction = kHnswEfConstruction;
  return std::unique_ptr<VectorIndex>(new VectorIndex(
      std::make_unique<Impl>(embedder_id, dimension, std::make_unique<Hnsw>(dimension, p), 0)));
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path,
                                                       const std::string& embedder_id,
                                                       int dimension) {
  if (dimension < 1) {
    return Status::InvalidArgument("vector index dimension must be positive, got " +
                                   std::to_string(dimension));
  }
  MNEMO_ASSIGN_OR_RETURN(auto snap, ReadSnapshotFile(path, embedder_id, dimension));
  auto graph = Hnsw::Parse(snap->payload(), dimension);
  if (!graph.ok()) return graph.status().WithContext("vector index snapshot " + path);
  return std::unique_ptr<VectorIndex>(new VectorIndex(std::make_unique<Impl>(
      embedder_id, dimension, std::move(graph).value(), snap->info().applied_seq)));
}

Result<SnapshotInfo> VectorIndex::Save(const std::string& path) const {
  Impl& d = *impl_;
  SnapshotInfo info{d.embedder_id_, d.dimension_, 0};
  if (rebuilding()) {
    // Its applied_seq could not name the part of the rebuild that is missing.
    return Status::FailedPrecondition("vector index snapshot " + path +
                                      ": the index is still being rebuilt");
  }
  // No insertion meanwhile (the graph and applied_seq stay consistent); searches go on.
  std::lock_guard<std::mutex> build(d.build_mu_);
  std::shared_lock<FairSharedMutex> vectors(d.erase_mu_);
  info.applied_seq = d.applied_seq_.load();
  MNEMO_RETURN_IF_ERROR(WriteSnapshotFile(path, info, [&](const PayloadSink& sink) {
                          return d.graph_->Serialize(sink);
                        }).WithContext("vector index snapshot " + path));
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
  // so that no snapshot taken from here on holds the vector. build_mu_ keeps graph
  // insertions, which read other nodes' vectors without erase_mu_, out of the way.
  std::unique_lock<std::mutex> build_lock(d.build_mu_, std::defer_lock);
  std::unique_lock<FairSharedMutex> erase_lock(d.erase_mu_, std::defer_lock);
  if (erase) {
    build_lock.lock();
    erase_lock.lock();
  }
  std::unique_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  if (!d.AcceptSeq(seq)) return;
  d.fifo_.push_back({seq, id, /*remove=*/true, erase});
  Impl::PendingState& state = d.pending_[id];
  state.seq = seq;
  state.removed = true;
  if (erase) {
    Wipe(&state.blob);
    std::shared_lock<FairSharedMutex> map(d.map_mu_);
    d.ZeroAll(id);
  } else {
    state.blob.clear();
  }
}

size_t VectorIndex::IndexPending(size_t max_items, int threads) {
  Impl& d = *impl_;
  struct Work {
    Impl::Change change;
    bool latest;       // no later change of the same id is pending
    std::string blob;  // for a latest upsert
    uint32_t node = 0;
  };
  size_t moved = 0;
  std::vector<Work> batch;
  while (moved < max_items) {
    std::lock_guard<std::mutex> build(d.build_mu_);
    batch.clear();
    int64_t applied = 0;
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
      d.in_flight_.store(batch.size());
      if (!batch.empty()) {
        // Seed() lets several changes share a seq: the seq counts as applied only once
        // the last change carrying it is, so a snapshot never skips part of a group.
        const int64_t last = batch.back().change.seq;
        applied = !d.fifo_.empty() && d.fifo_.front().seq == last ? last - 1 : last;
      }
    }
    if (batch.empty()) break;

    // Link the new vectors into the graph, `threads` at a time; searches go on. A change
    // superseded by a later pending one is skipped: only the latest state of an id
    // matters, and the later change is still queued.
    std::vector<Work*> inserts;
    for (Work& w : batch) {
      if (w.latest && !w.change.remove) inserts.push_back(&w);
    }
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i = next.fetch_add(1); i < inserts.size(); i = next.fetch_add(1)) {
        inserts[i]->node = d.graph_->Insert(inserts[i]->change.id, inserts[i]->blob);
      }
    };
    const int helpers =
        inserts.size() >= 32 ? std::clamp(threads, 1, 16) - 1 : 0;  // a few: not worth a thread
    std::vector<std::thread> pool;
    for (int t = 0; t < helpers; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();

    {
      // Exclusive only when the batch wipes a vector (an erase): searches read vectors.
      std::unique_lock<FairSharedMutex> erase_lock(d.erase_mu_, std::defer_lock);
      if (std::any_of(batch.begin(), batch.end(), [](const Work& w) { return w.change.erase; })) {
        erase_lock.lock();
      }
      std::unique_lock<FairSharedMutex> pending_lock(d.pending_mu_);
      std::unique_lock<FairSharedMutex> map_lock(d.map_mu_);
      for (Work& w : batch) {
        if (!w.latest) continue;
        const Impl::Change& c = w.change;
        if (c.remove && c.erase) d.ZeroAll(c.id);
        const uint32_t old = d.node_of_.Find(c.id);
        if (old != kNoValue) {
          d.graph_->MarkRemoved(old);
          d.stale_[c.id].push_back(old);
          d.node_of_.Erase(c.id);
        }
        if (!c.remove) {
          d.node_of_.Put(c.id, w.node);
          d.recent_.push_back(w.node);
          if (d.recent_.size() > kRecentWindow) d.recent_.pop_front();
        }
        // An Upsert() or Remove() of the same id may have arrived meanwhile; keep it.
        auto it = d.pending_.find(c.id);
        if (it != d.pending_.end() && it->second.seq == c.seq) d.pending_.erase(it);
      }
      d.in_flight_.store(0);
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

  std::shared_lock<FairSharedMutex> vectors(d.erase_mu_);
  // The tail first (see the lock order): its ids shadow whatever the graph holds for them.
  std::unordered_set<MemoryId> shadowed;
  {
    std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
    for (const auto& [id, state] : d.pending_) {
      shadowed.insert(id);
      if (!state.removed) out.push_back({id, QuantizedDot(q, state.blob)});
    }
  }
  // Graph hits whose id is in the tail are stale (superseded or removed). When they push
  // the live hits below k, search again with twice the breadth, until the graph has
  // nothing more to give.
  std::unordered_set<uint32_t> seen;
  for (size_t n = std::max(ef, k);; n *= 2) {
    const auto hits = d.graph_->Search(q_blob, n);
    size_t kept = 0;
    for (const Hnsw::Hit& hit : hits) {
      if (!seen.insert(hit.node).second) continue;
      const MemoryId id = d.graph_->IdOf(hit.node);
      if (shadowed.count(id) != 0) continue;
      // Exact similarity to the float query, not the quantized one used for routing.
      out.push_back({id, QuantizedDot(q, d.graph_->VectorOf(hit.node))});
      ++kept;
    }
    if (kept >= k || hits.size() < n || n >= d.graph_->live_count()) break;
  }
  {
    std::shared_lock<FairSharedMutex> map_lock(d.map_mu_);
    for (uint32_t node : d.recent_) {
      if (seen.count(node) != 0 || !d.graph_->IsLive(node)) continue;
      const MemoryId id = d.graph_->IdOf(node);
      if (shadowed.count(id) != 0) continue;
      seen.insert(node);  // a node may appear twice in the window
      out.push_back({id, QuantizedDot(q, d.graph_->VectorOf(node))});
    }
  }
  vectors.unlock();
  std::sort(out.begin(), out.end(), MoreSimilar);
  Dedupe(&out);  // an id moving from the tail to the graph meanwhile
  if (out.size() > k) out.resize(k);
  return out;
}

std::vector<Neighbor> VectorIndex::ScanAll(const std::vector<float>& query, size_t k) const {
  const Impl& d = *impl_;
  std::vector<Neighbor> out;
  if (k == 0 || query.size() != size_t(d.dimension_)) return out;
  const std::vector<float> q = Normalized(query);
  // A heap of the best (k + slack) so far, the least similar on top: an id may appear
  // twice for a moment (see Dedupe), so a few more than k are kept.
  const size_t keep = k + 8;
  out.reserve(keep + 1);
  auto offer = [&](MemoryId id, std::string_view blob) {
    const Neighbor n{id, QuantizedDot(q, blob)};
    if (out.size() == keep && !MoreSimilar(n, out.front())) return;
    out.push_back(n);
    std::push_heap(out.begin(), out.end(), MoreSimilar);
    if (out.size() > keep) {
      std::pop_heap(out.begin(), out.end(), MoreSimilar);
      out.pop_back();
    }
  };
  std::shared_lock<FairSharedMutex> vectors(d.erase_mu_);
  std::unordered_set<MemoryId> shadowed;
  {
    std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
    for (const auto& [id, state] : d.pending_) {
      shadowed.insert(id);
      if (!state.removed) offer(id, state.blob);
    }
  }
  const uint32_t n = d.graph_->size();
  for (uint32_t node = 0; node < n; ++node) {
    if (!d.graph_->IsLive(node)) continue;
    const MemoryId id = d.graph_->IdOf(node);
    if (shadowed.empty() || shadowed.count(id) == 0) offer(id, d.graph_->VectorOf(node));
  }
  vectors.unlock();
  std::sort_heap(out.begin(), out.end(), MoreSimilar);
  Dedupe(&out);
  if (out.size() > k) out.resize(k);
  return out;
}

std::vector<Neighbor> VectorIndex::Score(const std::vector<float>& query,
                                         const std::vector<MemoryId>& ids) const {
  const Impl& d = *impl_;
  std::vector<Neighbor> out;
  if (query.size() != size_t(d.dimension_)) return out;
  const std::vector<float> q = Normalized(query);
  std::shared_lock<FairSharedMutex> vectors(d.erase_mu_);
  std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  std::shared_lock<FairSharedMutex> map_lock(d.map_mu_);
  // The ids of a filtered scan are scattered over the map and the graph: each step loads
  // what a later one needs (its map slot, then its node's state and vector), so the
  // cache misses overlap instead of adding up.
  constexpr size_t kAhead = 8;
  const size_t n = ids.size();
  std::vector<uint32_t> nodes(n, kNoValue);
  std::vector<const std::string*> tail(n, nullptr);  // a pending vector, if any
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) d.node_of_.Prefetch(ids[i + kAhead]);
    if (!d.pending_.empty()) {
      auto it = d.pending_.find(ids[i]);
      if (it != d.pending_.end()) {
        if (!it->second.removed) tail[i] = &it->second.blob;
        continue;
      }
    }
    nodes[i] = d.node_of_.Find(ids[i]);
  }
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n && nodes[i + kAhead] != kNoValue) d.graph_->Prefetch(nodes[i + kAhead]);
    if (tail[i] != nullptr) {
      out.push_back({ids[i], QuantizedDot(q, *tail[i])});
    } else if (nodes[i] != kNoValue && d.graph_->IsLive(nodes[i])) {
      out.push_back({ids[i], QuantizedDot(q, d.graph_->VectorOf(nodes[i]))});
    }
  }
  return out;
}

bool VectorIndex::Contains(MemoryId id) const {
  const Impl& d = *impl_;
  {
    std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
    auto it = d.pending_.find(id);
    if (it != d.pending_.end()) return !it->second.removed;
  }
  return d.LiveNode(id).has_value();
}

size_t VectorIndex::pending_count() const {
  std::shared_lock<FairSharedMutex> pending_lock(impl_->pending_mu_);
  return impl_->fifo_.size() + impl_->in_flight_.load();
}

VectorIndex::Counts VectorIndex::counts() const {
  // node_of_ maps each id to its live node, and IndexPending updates it and the pending
  // tail under both locks; the graph's own live count runs ahead of them mid-batch.
  const Impl& d = *impl_;
  std::shared_lock<FairSharedMutex> pending_lock(d.pending_mu_);
  std::shared_lock<FairSharedMutex> map_lock(d.map_mu_);
  Counts out;
  out.indexed = d.node_of_.size();
  for (const auto& [id, state] : d.pending_) {
    if (!state.removed && d.node_of_.Find(id) == kNoValue) ++out.pending_new;
  }
  return out;
}

size_t VectorIndex::MemoryBytes() const {
  const Impl& d = *impl_;
  size_t n = d.graph_->MemoryBytes();
  std::shared_lock<FairSharedMutex> map_lock(d.map_mu_);
  n += d.node_of_.MemoryBytes();
  return n;
}

int64_t VectorIndex::applied_seq() const { return impl_->applied_seq_.load(); }
int VectorIndex::dimension() const { return impl_->dimension_; }
const std::string& VectorIndex::embedder_id() const { return impl_->embedder_id_; }

}  // namespace mnemo::index
