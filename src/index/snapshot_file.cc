#include "index/snapshot_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <type_traits>
#include <vector>

namespace mnemo::index {
namespace {

// magic, version, dimension, applied_seq, embedder id length
constexpr uint64_t kFixedHeaderSize = 8 + 4 + 4 + 8 + 4;
constexpr uint64_t kPayloadLengthSize = 8;
constexpr uint64_t kTrailerSize = 4 + 8;  // CRC-32, end magic
constexpr size_t kCopyChunk = size_t(1) << 20;

Status ErrnoError(const std::string& what, int err) {
  return Status::IOError(what + ": " + std::strerror(err));
}

// Owns a POSIX file descriptor. Raw descriptors (not iostreams) because the snapshot
// must be fsync'ed, and so must its directory.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now, reporting the error a deferred write may only surface here.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(const Fd& fd, const char* data, size_t n, const std::string& file) {
  while (n > 0) {
    const ssize_t w = ::write(fd.get(), data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write " + file, errno);
    }
    data += w;
    n -= size_t(w);
  }
  return Status::Ok();
}

Status SyncDirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("cannot open directory " + dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoError("cannot fsync directory " + dir, errno);
  return Status::Ok();
}

uint32_t Crc(uint32_t crc, const char* data, size_t n) {
  return uint32_t(::crc32(crc, reinterpret_cast<const Bytef*>(data), uInt(n)));
}

template <typename T>
void PutLE(std::string* out, T value) {
  const auto u = static_cast<std::make_unsigned_t<T>>(value);
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

template <typename T>
T GetLE(const char* in) {
  std::make_unsigned_t<T> u = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    u |= std::make_unsigned_t<T>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return static_cast<T>(u);
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08" PRIx32, v);
  return buf;
}

}  // namespace

Status WriteSnapshotFile(const std::string& path, const SnapshotInfo& info,
                         const std::function<Status(const PayloadSink&)>& write) {
  if (info.embedder_id.size() > kMaxEmbedderIdLength) {
    return Status::InvalidArgument("embedder id longer than " +
                                   std::to_string(kMaxEmbedderIdLength) + " bytes");
  }
  const std::string tmp = path + ".tmp";
  Status s;
  {
    Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!out.valid()) return ErrnoError("cannot create " + tmp, errno);
    // The header's payload length is known at the end: written as 0, then patched, and
    // the checksum is combined from the header's and the payload's (zlib crc32_combine).
    std::string header(kSnapshotMagic, sizeof kSnapshotMagic);
    PutLE<uint32_t>(&header, kSnapshotVersion);
    PutLE<uint32_t>(&header, uint32_t(info.dimension));
    PutLE<int64_t>(&header, info.applied_seq);
    PutLE<uint32_t>(&header, uint32_t(info.embedder_id.size()));
    header += info.embedder_id;
    const size_t length_at = header.size();
    PutLE<uint64_t>(&header, 0);
    s = WriteAll(out, header.data(), header.size(), tmp);
    uint32_t payload_crc = 0;
    uint64_t payload_size = 0;
    std::string buf;
    auto flush = [&]() -> Status {
      if (buf.empty()) return Status::Ok();
      payload_crc = Crc(payload_crc, buf.data(), buf.size());
      payload_size += buf.size();
      Status w = WriteAll(out, buf.data(), buf.size(), tmp);
      buf.clear();
      return w;
    };
    if (s.ok()) {
      s = write([&](std::string_view bytes) -> Status {
        buf.append(bytes);
        return buf.size() >= kCopyChunk ? flush() : Status::Ok();
      });
    }
    if (s.ok()) s = flush();
    if (s.ok()) {
      std::string length;
      PutLE<uint64_t>(&length, payload_size);
      header.replace(length_at, 8, length);
      if (::pwrite(out.get(), length.data(), length.size(), off_t(length_at)) != 8) {
        s = ErrnoError("cannot write " + tmp, errno);
      }
    }
    if (s.ok()) {
      const uint32_t crc = uint32_t(::crc32_combine(Crc(0, header.data(), header.size()),
                                                    payload_crc, z_off_t(payload_size)));
      std::string trailer;
      PutLE<uint32_t>(&trailer, crc);
      trailer.append(kSnapshotEndMagic, sizeof kSnapshotEndMagic);
      if (::lseek(out.get(), 0, SEEK_END) < 0) s = ErrnoError("cannot seek " + tmp, errno);
      if (s.ok()) s = WriteAll(out, trailer.data(), trailer.size(), tmp);
    }
    if (s.ok() && ::fsync(out.get()) != 0) s = ErrnoError("cannot fsync " + tmp, errno);
    if (s.ok() && out.Close() != 0) s = ErrnoError("cannot close " + tmp, errno);
  }
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoError("cannot rename " + tmp + " to " + path, errno);
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDirectoryOf(path);
}

MappedSnapshot::~MappedSnapshot() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

Result<std::unique_ptr<MappedSnapshot>> ReadSnapshotFile(const std::string& path,
                                                         const std::string& embedder_id,
                                                         int dimension) {
  const std::string what = "vector index snapshot " + path;
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) {
    if (errno == ENOENT) return Status::NotFound(what + " does not exist");
    return ErrnoError("cannot open " + what, errno);
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return ErrnoError("cannot stat " + what, errno);
  if (!S_ISREG(st.st_mode)) return Status::Corruption(what + ": not a regular file");
  const auto file_size = uint64_t(st.st_size);
  if (file_size == 0) return Status::Corruption(what + ": empty file");
  const Status truncated =
      Status::Corruption(what + ": truncated (" + std::to_string(file_size) + " bytes)");
  if (file_size < kFixedHeaderSize + kPayloadLengthSize + kTrailerSize) return truncated;
  std::unique_ptr<MappedSnapshot> snap(new MappedSnapshot());
  void* map = ::mmap(nullptr, size_t(file_size), PROT_READ, MAP_PRIVATE, in.get(), 0);
  if (map == MAP_FAILED) return ErrnoError("cannot map " + what, errno);
  snap->map_ = map;
  snap->map_size_ = size_t(file_size);
  const char* data = static_cast<const char*>(map);

  if (std::memcmp(data, kSnapshotMagic, sizeof kSnapshotMagic) != 0) {
    return Status::Corruption(what + ": bad magic (not a mnemo vector index snapshot)");
  }
  const auto version = GetLE<uint32_t>(data + 8);
  if (version != kSnapshotVersion) {
    return Status::Corruption(what + ": unsupported format version " + std::to_string(version) +
                              " (this build reads version " + std::to_string(kSnapshotVersion) +
                              ")");
  }
  SnapshotInfo& info = snap->info_;
  const auto stored_dimension = GetLE<uint32_t>(data + 12);
  info.applied_seq = GetLE<int64_t>(data + 16);
  const auto id_length = GetLE<uint32_t>(data + 24);
  const uint64_t header_size = kFixedHeaderSize + id_length + kPayloadLengthSize;
  if (id_length > kMaxEmbedderIdLength || header_size + kTrailerSize > file_size) {
    return Status::Corruption(what + ": invalid embedder id length " + std::to_string(id_length) +
                              " (truncated or damaged header)");
  }
  info.embedder_id.assign(data + kFixedHeaderSize, id_length);
  const auto payload_size = GetLE<uint64_t>(data + kFixedHeaderSize + id_length);
  const uint64_t body_size = header_size + kTrailerSize;
  if (payload_size > file_size || body_size + payload_size != file_size) {
    return Status::Corruption(what + ": size mismatch: the header promises " +
                              std::to_string(body_size + payload_size) + " bytes, the file has " +
                              std::to_string(file_size) + " (truncated or trailing data)");
  }
  const char* trailer = data + header_size + payload_size;
  if (std::memcmp(trailer + 4, kSnapshotEndMagic, sizeof kSnapshotEndMagic) != 0) {
    return Status::Corruption(what + ": bad end marker (truncated or damaged trailer)");
  }
  uint32_t crc = 0;
  for (uint64_t at = 0; at < header_size + payload_size;) {
    const size_t n = size_t(std::min<uint64_t>(kCopyChunk, header_size + payload_size - at));
    crc = Crc(crc, data + at, n);
    at += n;
  }
  const auto stored_crc = GetLE<uint32_t>(trailer);
  if (stored_crc != crc) {
    return Status::Corruption(what + ": checksum mismatch (expected " + Hex32(stored_crc) +
                              ", got " + Hex32(crc) + ")");
  }
  // Checked after the checksum so that damage is reported as damage, not as a mismatch.
  if (info.embedder_id != embedder_id || stored_dimension != uint32_t(dimension)) {
    return Status::Corruption(what + " holds vectors of embedder '" + info.embedder_id +
                              "' (dimension " + std::to_string(stored_dimension) + "), expected '" +
                              embedder_id + "' (dimension " + std::to_string(dimension) + ")");
  }
  info.dimension = dimension;
  snap->payload_ = std::string_view(data + header_size, size_t(payload_size));
  return snap;
}

}  // namespace mnemo::index
