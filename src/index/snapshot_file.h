// Private to src/index: the vector index snapshot container (format in README.md,
// "Snapshot format"): a header naming what the graph is, hnswlib's serialisation as an
// opaque payload, and a CRC-32 trailer over everything before it.
//
// The payload travels through a temporary file because hnswlib 0.6.2 saves to and
// loads from paths only.
//
// Thread safety: free functions; concurrent calls must use distinct paths.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "index/vector_index.h"
#include "mnemo/status.h"

namespace mnemo::index {

inline constexpr char kSnapshotMagic[8] = {'M', 'N', 'E', 'M', 'O', 'V', 'I', 'X'};
inline constexpr char kSnapshotEndMagic[8] = {'M', 'N', 'E', 'M', 'O', 'E', 'N', 'D'};
inline constexpr uint32_t kSnapshotVersion = 1;
// Longer embedder ids are rejected on write and treated as corruption on read.
inline constexpr uint32_t kMaxEmbedderIdLength = 4096;

// Writes the snapshot `path` from `info` and the `payload_size` bytes of `payload_file`,
// atomically: `path`.tmp, fsync, rename over `path`, fsync of the directory. Nothing is
// left behind on failure.
Status WriteSnapshotFile(const std::string& path, const SnapshotInfo& info,
                         const std::string& payload_file, uint64_t payload_size);

// Verifies the snapshot `path` (structure, checksum, then that it holds `embedder_id`
// vectors of `dimension`) while copying its payload to `payload_file`. kNotFound when
// `path` does not exist, kCorruption for any defect; `payload_file` is only meaningful
// on success, and the caller removes it in every case.
Result<SnapshotInfo> ExtractSnapshotFile(const std::string& path, const std::string& embedder_id,
                                         int dimension, const std::string& payload_file);

// A path next to `path` (same directory, hence same filesystem) that no other call in
// this process returns, for the payload's temporary file.
std::string TempPathNextTo(const std::string& path, std::string_view tag);

// Removes a file when it goes out of scope (errors ignored: the file may not exist).
class ScopedFileRemover {
 public:
  explicit ScopedFileRemover(std::string path) : path_(std::move(path)) {}
  ~ScopedFileRemover();
  ScopedFileRemover(const ScopedFileRemover&) = delete;
  ScopedFileRemover& operator=(const ScopedFileRemover&) = delete;

 private:
  std::string path_;
};

}  // namespace mnemo::index
