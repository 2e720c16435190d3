// Private to src/index: a thin, exception-free wrapper over hnswlib 0.6.2's
// HierarchicalNSW for int8-quantized blobs (see quantize.h).
//
// hnsw_graph.cc is the only translation unit that includes hnswlib (its hnswlib.h defines
// non-inline functions, so a second includer would break the link): keep it that way.
//
// Everything hnswlib throws is caught here and returned as a Status, and snapshot
// payloads are validated before and after hnswlib parses them, so neither garbage nor a
// CRC-valid but inconsistent file can crash the process.
//
// Thread safety: none of its own. Const methods may run concurrently with each other;
// non-const methods need exclusive access (VectorIndex's graph_mu_ provides both).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/status.h"

namespace mnemo::index {

// Graph construction parameters: M = 16 links per node (32 on the base layer, 132 bytes
// per node) and a construction breadth of 100, hnswlib's usual trade-off. Search breadth
// buys the rest: on random unit vectors (HNSW's worst case) recall@10 is 0.90 at ef = 64
// and 0.98 at ef = 128 for 64-d; see README.md for measured figures.
inline constexpr size_t kHnswM = 16;
inline constexpr size_t kHnswEfConstruction = 100;
// Capacity of a new graph; it doubles (resizeIndex) whenever an insert finds it full.
inline constexpr size_t kHnswInitialCapacity = 1024;

class HnswGraph {
 public:
  struct Hit {
    MemoryId id;
    std::string_view blob;  // the stored vector; valid until the next non-const call
  };

  // An empty graph for blobs of QuantizedSize(dimension) bytes.
  static Result<std::unique_ptr<HnswGraph>> Create(int dimension);
  // Loads a file written by SaveFile(). `what` names the snapshot in error messages.
  // Every inconsistency is kCorruption; hnswlib only ever sees a structurally valid file.
  static Result<std::unique_ptr<HnswGraph>> LoadFile(const std::string& file, int dimension,
                                                     const std::string& what);

  class Impl;
  explicit HnswGraph(std::unique_ptr<Impl> impl);  // use Create() or LoadFile()
  ~HnswGraph();
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  // Writes hnswlib's own serialisation to `file` and checks that all of it arrived
  // (hnswlib's saveIndex ignores stream errors). Returns the file's size.
  Result<uint64_t> SaveFile(const std::string& file) const;

  // Inserts `id` or replaces its vector, reviving it if it was removed; grows the
  // capacity when full. `blob` must be QuantizedSize(dimension) bytes.
  Status Upsert(MemoryId id, std::string_view blob);
  // Marks `id` removed (searches skip it; the node keeps routing). No-op if absent.
  Status Remove(MemoryId id);
  // Overwrites the stored vector of `id` with zeros, whatever its state (no-op if absent).
  void ZeroVector(MemoryId id);

  // Up to `n` live nodes nearest to `query_blob`, searched with breadth n (the caller
  // passes n = max(ef, wanted)). Order unspecified.
  Result<std::vector<Hit>> Search(std::string_view query_blob, size_t n) const;
  // The stored vector of `id` if it is live.
  std::optional<std::string_view> LiveVector(MemoryId id) const;
  // Calls fn(id, blob) for every live node, in insertion order (an exact scan reads the
  // vectors where they lie, contiguously, without a lookup per id).
  template <typename Fn>
  void ForEachLive(Fn&& fn) const {
    const size_t n = node_count();
    for (size_t i = 0; i < n; ++i) {
      MemoryId id;
      std::string_view blob;
      if (NodeAt(i, &id, &blob)) fn(id, blob);
    }
  }

  size_t live_count() const;
  size_t node_count() const;  // live and removed
  size_t capacity() const;

 private:
  // Node `internal` (< node_count()): false if it is removed.
  bool NodeAt(size_t internal, MemoryId* id, std::string_view* blob) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace mnemo::index
