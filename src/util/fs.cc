#include "util/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mnemo::util {
namespace fs = std::filesystem;

namespace {
Status ErrnoStatus(const std::string& what, int err) {
  return Status::IOError(what + ": " + std::strerror(err));
}
}  // namespace

bool PathExists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

Status CreateDirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Status::IOError("cannot create directory " + path + ": " + ec.message());
  return Status::Ok();
}

Status CreatePrivateDirs(const std::string& path) {
  MNEMO_RETURN_IF_ERROR(CreateDirs(path));
  std::error_code ec;
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    return Status::IOError("cannot make " + path + " owner-only (chmod 0700): " + ec.message());
  }
  return Status::Ok();
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::IOError("cannot remove " + path + ": " + ec.message());
  return Status::Ok();
}

int64_t FileSizeOrZero(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

Result<std::vector<std::string>> ListDirectories(const std::string& path) {
  std::error_code ec;
  std::vector<std::string> out;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) out.push_back(it->path().filename().string());
  }
  if (ec) return Status::IOError("cannot list " + path + ": " + ec.message());
  return out;
}

Status WriteFileAtomic(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create " + tmp, errno);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus("cannot write " + tmp, err);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("cannot fsync " + tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("cannot rename " + tmp, errno);
  const std::string dir = fs::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// Opens `path` (flags) and takes an exclusive flock without waiting; -1 and `status` on
// failure.
int LockOne(const std::string& path, int flags, Status* status) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) {
    *status = ErrnoStatus("cannot open " + path + " to lock it", errno);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    *status =
        err == EWOULDBLOCK
            ? Status::FailedPrecondition("the data directory is in use by another mnemo process (" +
                                         path + " is locked)")
            : ErrnoStatus("cannot lock " + path, err);
    return -1;
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path) {
  Status s;
  int fd = LockOne(path, O_RDWR | O_CREAT, &s);
  if (fd < 0) return s;
  return std::make_unique<FileLock>(std::vector<int>{fd});
}

Result<std::unique_ptr<FileLock>> FileLock::AcquireDirectory(const std::string& dir) {
  Status s;
  int dir_fd = LockOne(dir, O_RDONLY | O_DIRECTORY, &s);
  if (dir_fd < 0) return s;
  auto lock = std::make_unique<FileLock>(std::vector<int>{dir_fd});
  int file_fd = LockOne(dir + "/LOCK", O_RDWR | O_CREAT, &s);
  if (file_fd < 0) return s;  // releases the directory's lock
  lock->fds_.push_back(file_fd);
  return lock;
}

FileLock::~FileLock() {
  for (int fd : fds_) ::close(fd);
}

}  // namespace mnemo::util
