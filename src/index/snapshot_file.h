// Private to src/index: the vector index snapshot container (format in README.md,
// "Snapshot format"): a header naming what the graph is, the graph's serialisation
// (hnsw.h) as an opaque payload, and a CRC-32 trailer over everything before it.
//
// The payload is streamed to the file on write (no copy of a large graph in memory) and
// read through a memory map, verified before anyone parses it.
//
// Thread safety: free functions; concurrent calls must use distinct paths.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "index/vector_index.h"
#include "mnemo/status.h"

namespace mnemo::index {

inline constexpr char kSnapshotMagic[8] = {'M', 'N', 'E', 'M', 'O', 'V', 'I', 'X'};
inline constexpr char kSnapshotEndMagic[8] = {'M', 'N', 'E', 'M', 'O', 'E', 'N', 'D'};
// 1: hnswlib 0.6.2's payload (no longer read: such a snapshot is rebuilt); 2: hnsw.h's.
inline constexpr uint32_t kSnapshotVersion = 2;
// Longer embedder ids are rejected on write and treated as corruption on read.
inline constexpr uint32_t kMaxEmbedderIdLength = 4096;

// Receives the payload in pieces; an error stops the write.
using PayloadSink = std::function<Status(std::string_view bytes)>;

// Writes the snapshot `path` from `info` and the payload `write` streams into its sink,
// atomically: `path`.tmp, fsync, rename over `path`, fsync of the directory. Nothing is
// left behind on failure.
Status WriteSnapshotFile(const std::string& path, const SnapshotInfo& info,
                         const std::function<Status(const PayloadSink&)>& write);

// A verified snapshot, mapped read-only until destruction.
class MappedSnapshot {
 public:
  ~MappedSnapshot();
  MappedSnapshot(const MappedSnapshot&) = delete;
  MappedSnapshot& operator=(const MappedSnapshot&) = delete;
  const SnapshotInfo& info() const { return info_; }
  std::string_view payload() const { return payload_; }

 private:
  friend Result<std::unique_ptr<MappedSnapshot>> ReadSnapshotFile(const std::string&,
                                                                  const std::string&, int);
  MappedSnapshot() = default;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  SnapshotInfo info_;
  std::string_view payload_;
};

// Maps and verifies the snapshot `path` (structure, checksum, then that it holds
// `embedder_id` vectors of `dimension`). kNotFound when `path` does not exist,
// kCorruption for any defect.
Result<std::unique_ptr<MappedSnapshot>> ReadSnapshotFile(const std::string& path,
                                                         const std::string& embedder_id,
                                                         int dimension);

}  // namespace mnemo::index
