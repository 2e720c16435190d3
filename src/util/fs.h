// Small filesystem helpers with Status errors (no exceptions).
//
// Thread safety: pure functions over the filesystem.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mnemo/status.h"

namespace mnemo::util {

bool PathExists(const std::string& path);
Status CreateDirs(const std::string& path);
// CreateDirs, then the last directory owner-only (0700) whatever the umask: memories are
// private to the account that runs mnemo.
Status CreatePrivateDirs(const std::string& path);
Status RemoveAll(const std::string& path);
int64_t FileSizeOrZero(const std::string& path);
Result<std::vector<std::string>> ListDirectories(const std::string& path);
// Writes `data` to `path` atomically: temp file, fsync, rename, fsync of the directory.
Status WriteFileAtomic(const std::string& path, const std::string& data);
Result<std::string> ReadFile(const std::string& path);

// An exclusive advisory lock (flock) on a file, held until destruction.
class FileLock {
 public:
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path);
  // A data directory's lock: the directory itself (which cannot be removed while it
  // holds files, so deleting a file never frees the lock) and, for mnemo versions that
  // locked only that, DIR/LOCK. kFailedPrecondition when another process holds either.
  static Result<std::unique_ptr<FileLock>> AcquireDirectory(const std::string& dir);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  explicit FileLock(std::vector<int> fds) : fds_(std::move(fds)) {}  // owns them; use Acquire()

 private:
  std::vector<int> fds_;
};

}  // namespace mnemo::util
