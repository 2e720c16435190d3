// The vector index of one space: an HNSW graph (hnsw.h) over int8-quantized vectors,
// plus a "pending" tail of vectors that are durable in SQLite but not yet in the graph.
//
// Why a tail: the write path must not wait for graph insertion (the slow part of HNSW).
// A write enqueues its vector and returns; Search() scans the pending tail exactly, so a
// vector is findable as soon as Upsert() returns (read-your-writes). A background thread
// calls IndexPending() to move the tail into the graph.
//
// Every change carries a sequence number `seq` from the space's durable index log
// (strictly increasing). The index remembers `applied_seq`, the highest seq whose effect
// is in the graph with every earlier change; a snapshot records it, and on open the
// engine replays the log after it.
//
// Vectors are stored quantized (see quantize.h): dimension int8 values plus a float
// scale, so a 256-d vector costs 260 bytes instead of 1024.
//
// Thread safety: all methods are safe to call concurrently. Searches never wait for
// graph insertion (the graph is built for concurrent readers and writers, hnsw.h); an
// erase holds them off only while it zeroes one vector.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/status.h"

namespace mnemo::index {

// Graph construction: M = 16 links per node (32 on the base layer) and a construction
// breadth of 100 (README.md has the measured trade-offs).
inline constexpr size_t kHnswM = 16;
inline constexpr size_t kHnswEfConstruction = 100;

struct SnapshotInfo {
  std::string embedder_id;
  int dimension = 0;
  int64_t applied_seq = 0;
};

struct Neighbor {
  MemoryId id = 0;
  float similarity = 0;  // approximately the cosine similarity, in [-1, 1]
};

class VectorIndex {
 public:
  // An empty index for vectors of `dimension` floats. Returns null if `dimension` is not
  // positive (or the graph's first allocation fails).
  static std::unique_ptr<VectorIndex> Create(const std::string& embedder_id, int dimension);

  // Loads a snapshot written by Save(). Returns kCorruption (never crashes) when the file
  // is truncated, has a bad magic, version, or checksum, or holds another dimension or
  // embedder id than expected; kNotFound when it does not exist.
  static Result<std::unique_ptr<VectorIndex>> Load(const std::string& path,
                                                   const std::string& embedder_id, int dimension);

  ~VectorIndex();

  // Writes the graph (not the pending tail) atomically: temp file, fsync, rename, fsync
  // of the directory. Returns the info it recorded. kFailedPrecondition while
  // rebuilding(): a partial rebuild cannot be described by an applied seq.
  Result<SnapshotInfo> Save(const std::string& path) const;

  // Inserts or replaces the vector of `id` (quantized blob, see quantize.h). Visible to
  // Search() on return. Requires seq > every seq seen before (else ignored as a replay).
  void Upsert(int64_t seq, MemoryId id, std::string blob);
  // Upsert for a rebuild from SQLite, where every vector is loaded as of the log's
  // current seq: `seq` may equal the last one seen (never be older). Use on an index
  // made by Create(), one call per distinct id.
  void Seed(int64_t seq, MemoryId id, std::string blob);
  // Removes `id` (a no-op if absent). With `erase`, its vector bytes are overwritten
  // with zeros in memory so that a later snapshot does not hold them; an erase waits for
  // the indexing step or Save in progress (graph insertions read vectors unlocked).
  void Remove(int64_t seq, MemoryId id, bool erase);

  // Moves up to `max_items` pending changes into the graph, oldest first, inserting with
  // `threads` threads (this one and helpers). Returns how many were moved (0 when nothing
  // is pending).
  size_t IndexPending(size_t max_items, int threads = 1);

  // The `k` nearest vectors to `query` (a float vector, normalised or not) among the
  // live ones (graph and pending), most similar first. `ef` is the HNSW search breadth
  // (raised to at least k). Approximate for the graph, except that the pending tail and
  // the last 512 vectors moved into the graph are always scored exactly.
  std::vector<Neighbor> Search(const std::vector<float>& query, size_t k, size_t ef = 64) const;

  // The exact `k` nearest live vectors (graph and pending) to `query`, most similar
  // first: a scan of every vector, for spaces small enough that it beats the graph.
  std::vector<Neighbor> ScanAll(const std::vector<float>& query, size_t k) const;

  // Exact similarity of `query` to each of `ids` that is live in the index, in the order
  // of `ids` (absent ids are skipped).
  std::vector<Neighbor> Score(const std::vector<float>& query,
                              const std::vector<MemoryId>& ids) const;

  bool Contains(MemoryId id) const;
  // The live vectors, split into those in the graph (`indexed`) and those only in the
  // pending tail, not yet in the graph in any version (`pending_new`). Read at one instant:
  // while IndexPending moves vectors into the graph their sum stays the number of live ids.
  struct Counts {
    size_t indexed = 0;
    size_t pending_new = 0;
  };
  Counts counts() const;
  size_t indexed_count() const { return counts().indexed; }
  size_t pending_new_vectors() const { return counts().pending_new; }
  size_t MemoryBytes() const;    // approximate heap use of the graph and its id map
  size_t pending_count() const;  // changes waiting for IndexPending
  int64_t applied_seq() const;
  // True from the first Seed() until every seeded vector is in the graph.
  bool rebuilding() const;
  int dimension() const;
  const std::string& embedder_id() const;

 private:
  void UpsertImpl(int64_t seq, MemoryId id, std::string blob, bool allow_equal_seq);
  class Impl;
  explicit VectorIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnemo::index
