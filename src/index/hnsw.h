// Private to src/index: an HNSW graph (Malkov & Yashunin, 2018) over int8-quantized
// vectors (quantize.h), built so that searches never take a lock nor wait for insertions,
// and several threads can insert at once.
//
// Concurrency design:
//  - Nodes live in fixed-size chunks that are never moved or freed while the graph lives,
//    so a node number stays valid for every reader.
//  - A node's vector, id, level and own neighbour lists are written before it is
//    published (its state becomes ready, release order); other nodes link to it only
//    after that, and readers follow links only, so they never reach an unwritten node.
//  - A node is one record: its level-0 neighbour list, then its vector (one region of
//    memory per visit). Neighbour lists are u32 arrays with a count, read and written
//    through std::atomic_ref. Inserting threads
//    change another node's list under that node's spin lock; a reader may see a list
//    mid-rewrite (a mix of old and new neighbours, all of them ready nodes), which can
//    change that search's path, never its safety.
//  - The entry point and top level change together, as one atomic word.
//  - Removal is a mark (state removed): removed nodes still route, searches skip them.
//
// Parameters: M = 16 neighbours per node on upper levels and 2M on level 0, a
// construction breadth of ef_construction (README.md has the measured trade-off).
//
// Thread safety: Insert, MarkRemoved, Search and the accessors may run concurrently from
// any threads. ZeroVector and Serialize need the graph to themselves (no concurrent call):
// VectorIndex holds its lock exclusively around them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/status.h"

namespace mnemo::index {

class Hnsw {
 public:
  struct Params {
    size_t m = 16;
    size_t ef_construction = 100;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;  // levels are drawn from a per-graph generator
  };
  struct Hit {
    uint32_t node;
    float distance;  // 1 - approximate cosine similarity (int8 x int8)
  };

  Hnsw(int dimension, Params params);
  ~Hnsw();
  Hnsw(const Hnsw&) = delete;
  Hnsw& operator=(const Hnsw&) = delete;

  int dimension() const { return dimension_; }
  size_t blob_size() const { return blob_size_; }

  // Adds a node holding `blob` (QuantizedSize(dimension) bytes) for memory `id`, links it
  // into the graph and returns its number. The node is searchable when this returns.
  uint32_t Insert(MemoryId id, std::string_view blob);
  // Searches skip the node from now on; it keeps routing. Idempotent.
  void MarkRemoved(uint32_t node);
  // Overwrites the node's vector with zeros. Exclusive (see the header comment).
  void ZeroVector(uint32_t node);

  // The `ef` nearest live nodes to `query_blob` (approximately), nearest first.
  std::vector<Hit> Search(std::string_view query_blob, size_t ef) const;

  // Nodes ever created (numbers 0 .. size()-1; some may still be being inserted: IsLive
  // is false for them).
  uint32_t size() const { return reserved_.load(std::memory_order_acquire); }
  size_t live_count() const { return live_.load(std::memory_order_relaxed); }
  // For nodes < size(): whether the node is published and not removed, its memory id, its
  // vector (valid while the graph lives; see ZeroVector).
  bool IsLive(uint32_t node) const;
  MemoryId IdOf(uint32_t node) const;
  std::string_view VectorOf(uint32_t node) const;
  // Asks the CPU to load what IsLive and VectorOf of `node` will read (a hint only).
  void Prefetch(uint32_t node) const;

  // The whole graph as bytes (format in README.md, "Snapshot format"), streamed to `sink`
  // in pieces, and back. Parse checks every field and link; a damaged payload is
  // kCorruption, never a crash. Serialize needs no concurrent Insert (see the header).
  Status Serialize(const std::function<Status(std::string_view)>& sink) const;
  static Result<std::unique_ptr<Hnsw>> Parse(std::string_view payload, int dimension);

  size_t MemoryBytes() const;

 private:
  struct Chunk;
  static constexpr uint32_t kChunkBits = 12;  // 4,096 nodes per chunk
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr uint32_t kMaxChunks = 1u << 18;  // 2^30 nodes
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr int kMaxLevel = 16;
  static constexpr size_t kMaxLinksAtAnyLevel = 2 * 1024;  // 2M for the largest M Parse takes

  Chunk& ChunkOf(uint32_t node) const;
  uint32_t Reserve();
  char* Record(uint32_t node) const;                // level-0 links, then the vector
  uint32_t* Links(uint32_t node, int level) const;  // [0] = count, then ids
  const char* Vector(uint32_t node) const { return Record(node) + links0_bytes_; }
  size_t MaxLinks(int level) const { return level == 0 ? m0_ : m_; }
  float Distance(const char* a, uint32_t node) const;
  int RandomLevel();
  // Greedy descent on one level from `start` (ef = 1).
  uint32_t Greedy(const char* q, uint32_t start, int level) const;
  // The ef nearest reached from `start` on `level` (live or not), nearest first.
  std::vector<Hit> SearchLevel(const char* q, uint32_t start, size_t ef, int level) const;
  // hnswlib's heuristic: keep a candidate only if it is closer to the base than to every
  // neighbour kept so far; at most `max` of them. `candidates` nearest first.
  std::vector<uint32_t> SelectNeighbours(const std::vector<Hit>& candidates, size_t max) const;
  // Adds `node` to `target`'s list on `level`, pruning it with the heuristic when full.
  void Connect(uint32_t target, uint32_t node, int level);
  void Lock(uint32_t node) const;
  void Unlock(uint32_t node) const;

  const int dimension_;
  const size_t blob_size_;
  const size_t m_;
  const size_t m0_;
  const size_t ef_construction_;
  const double level_mult_;
  const size_t links0_bytes_;  // (1 + 2M) u32
  const size_t record_bytes_;  // links0_bytes_ + blob_size_, rounded up to 8

  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::mutex grow_mu_;  // creating chunks
  std::atomic<uint32_t> reserved_{0};
  std::atomic<size_t> live_{0};
  // Entry point (low 32 bits) and top level (high 32 bits); kNone while empty.
  std::atomic<uint64_t> entry_{kNone};
  std::mutex entry_mu_;  // serialises raising the top level
  std::mutex rng_mu_;
  uint64_t rng_;
};

}  // namespace mnemo::index
