#include "server/keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <unordered_map>
#include <utility>

#include "util/json_codec.h"
#include "util/time_util.h"
#include "util/utf8.h"

namespace mnemo::server {

using util::Json;

namespace {

constexpr std::string_view kKeyPrefix = "mnemo_";
constexpr size_t kIdHexLen = 8;
constexpr size_t kSecretBytes = 32;
constexpr size_t kKeyLen = kKeyPrefix.size() + kIdHexLen + 1 + 2 * kSecretBytes;
constexpr size_t kMaxNameBytes = 100;
constexpr int kFormatVersion = 1;
constexpr const char* kFormatName = "mnemo-keys";
constexpr TimeMs kReloadIntervalMs = 1000;

using Digest = std::array<unsigned char, 32>;

Status ErrnoStatus(const std::string& what, int err) {
  return Status::IOError(what + ": " + std::strerror(err));
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 0xf];
  }
  return out;
}

// `hex` must be 64 lower-case hex chars (checked by the caller).
Digest DigestFromHex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  Digest d{};
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = static_cast<unsigned char>((nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]));
  }
  return d;
}

Result<Digest> Sha256(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != d.size()) {
    return Status::Internal("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  return d;
}

Result<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return Status::Internal("no random bytes from OpenSSL RAND_bytes");
  }
  return Hex(buf.data(), buf.size());
}

bool ValidSpaceName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] == '.') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

Status ValidateName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::InvalidArgument("a key name must be 1-" + std::to_string(kMaxNameBytes) +
                                   " bytes long");
  }
  if (!util::IsValidUtf8(name)) return Status::InvalidArgument("a key name must be UTF-8");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("a key name must not contain control characters");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateKeyUser(std::string_view user) {
  constexpr size_t kMaxUserBytes = 256;  // the engine's limit on a user id
  if (user.empty() || user.size() > kMaxUserBytes) {
    return Status::InvalidArgument("the user a key is bound to must be 1-" +
                                   std::to_string(kMaxUserBytes) + " bytes long")
        .WithField("user");
  }
  if (!util::IsValidUtf8(user)) {
    return Status::InvalidArgument("the user a key is bound to must be UTF-8").WithField("user");
  }
  for (unsigned char c : user) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(
                 "the user a key is bound to must not contain control characters")
          .WithField("user");
    }
  }
  return Status::Ok();
}

namespace {

KeyStore::FileStamp StampOf(const struct stat& st) {
  KeyStore::FileStamp s;
  s.exists = true;
  s.inode = static_cast<uint64_t>(st.st_ino);
  s.device = static_cast<uint64_t>(st.st_dev);
  s.size = static_cast<int64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return s;
}

Result<KeyStore::FileStamp> StatPath(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return KeyStore::FileStamp{};
    return ErrnoStatus("cannot stat " + path, errno);
  }
  return StampOf(st);
}

// Writes `data` to `path` with mode 0600, atomically and durably. The caller holds the
// keys.lock flock, so the temp file name is not shared with another writer.
Status WriteFilePrivate(const std::string& dir, const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("cannot create " + tmp, errno);
  auto fail = [&](const std::string& what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoStatus(what, err);
  };
  // A temp file left by a crash keeps its old mode through O_CREAT: force 0600.
  if (::fchmod(fd, 0600) != 0) return fail("cannot chmod " + tmp);
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write " + tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync " + tmp);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("cannot rename " + tmp + " to " + path, err);
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("cannot open directory " + dir, errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) return ErrnoStatus("cannot fsync directory " + dir, err);
  return Status::Ok();
}

// A blocking exclusive flock, released on destruction (util::FileLock does not wait).
class WriterLock {
 public:
  static Result<std::unique_ptr<WriterLock>> Acquire(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return ErrnoStatus("cannot open lock file " + path, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("cannot lock " + path, err);
    }
    return std::unique_ptr<WriterLock>(new WriterLock(fd));
  }
  ~WriterLock() { ::close(fd_); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

// An immutable view of keys.json as loaded; shared by readers, replaced on reload.
struct KeyStore::Snapshot {
  struct Entry {
    KeyInfo info;
    Digest hash{};
  };
  std::vector<Entry> keys;                        // file order (creation order)
  std::unordered_map<std::string, size_t> by_id;  // id -> index in keys
  FileStamp stamp;                                // of the file this came from
  bool has_active = false;

  void Index() {
    by_id.clear();
    has_active = false;
    for (size_t i = 0; i < keys.size(); ++i) {
      by_id.emplace(keys[i].info.id, i);
      has_active = has_active || !keys[i].info.revoked_at;
    }
  }
};

namespace {

using Snapshot = KeyStore::Snapshot;

std::string Serialize(const Snapshot& snap) {
  // Ordered: the file is meant to be read by people auditing who may do what.
  using Ordered = nlohmann::ordered_json;
  Ordered arr = Ordered::array();
  for (const auto& e : snap.keys) {
    Ordered grants = Ordered::object();
    for (const auto& [space, role] : e.info.grants) grants[space] = std::string(RoleName(role));
    Ordered k = Ordered::object();
    k["id"] = e.info.id;
    k["name"] = e.info.name;
    k["created_at"] = util::FormatIso8601(e.info.created_at);
    k["revoked_at"] =
        e.info.revoked_at ? Ordered(util::FormatIso8601(*e.info.revoked_at)) : Ordered(nullptr);
    k["grants"] = std::move(grants);
    if (!e.info.user.empty()) k["user"] = e.info.user;
    if (e.info.deny_labels != 0) k["deny_labels"] = LabelNames(e.info.deny_labels);
    k["hash"] = Hex(e.hash.data(), e.hash.size());
    arr.push_back(std::move(k));
  }
  Ordered doc = Ordered::object();
  doc["format"] = kFormatName;
  doc["version"] = kFormatVersion;
  doc["keys"] = std::move(arr);
  return doc.dump(2, ' ', false, Ordered::error_handler_t::replace) + "\n";
}

// Parses one record; errors name the field.
Status ParseEntry(const Json& k, Snapshot::Entry* e) {
  if (!k.is_object()) return Status::Corruption("not a JSON object");
  static const char* const kFields[] = {"id", "name", "hash", "created_at", "revoked_at", "grants"};
  for (const auto& [field, value] : k.items()) {
    bool known = field == "user" || field == "deny_labels";  // optional
    for (const char* f : kFields) known = known || field == f;
    if (!known) return Status::Corruption("unknown field \"" + field + "\"");
  }
  for (const char* f : kFields) {
    if (!k.contains(f)) return Status::Corruption(std::string("missing field \"") + f + "\"");
  }
  const Json& id = k["id"];
  if (!id.is_string() || id.get_ref<const std::string&>().size() != kIdHexLen ||
      !IsLowerHex(id.get_ref<const std::string&>())) {
    return Status::Corruption("\"id\" must be 8 lower-case hex characters");
  }
  e->info.id = id.get<std::string>();
  const Json& name = k["name"];
  if (!name.is_string()) return Status::Corruption("\"name\" must be a string");
  if (Status s = ValidateName(name.get_ref<const std::string&>()); !s.ok()) {
    return Status::Corruption(s.message());
  }
  e->info.name = name.get<std::string>();
  const Json& hash = k["hash"];
  if (!hash.is_string() || hash.get_ref<const std::string&>().size() != 64 ||
      !IsLowerHex(hash.get_ref<const std::string&>())) {
    return Status::Corruption("\"hash\" must be 64 lower-case hex characters (a SHA-256)");
  }
  e->hash = DigestFromHex(hash.get_ref<const std::string&>());
  const Json& created = k["created_at"];
  if (!created.is_string()) return Status::Corruption("\"created_at\" must be an ISO 8601 string");
  auto created_ms = util::ParseIso8601(created.get_ref<const std::string&>());
  if (!created_ms.ok())
    return Status::Corruption("\"created_at\": " + created_ms.status().message());
  e->info.created_at = *created_ms;
  const Json& revoked = k["revoked_at"];
  if (!revoked.is_null()) {
    if (!revoked.is_string()) {
      return Status::Corruption("\"revoked_at\" must be null or an ISO 8601 string");
    }
    auto revoked_ms = util::ParseIso8601(revoked.get_ref<const std::string&>());
    if (!revoked_ms.ok()) {
      return Status::Corruption("\"revoked_at\": " + revoked_ms.status().message());
    }
    e->info.revoked_at = *revoked_ms;
  }
  const Json& grants = k["grants"];
  if (!grants.is_object()) return Status::Corruption("\"grants\" must be an object");
  for (const auto& [space, role] : grants.items()) {
    Role r = Role::kNone;
    if (!role.is_string() || !ParseRole(role.get_ref<const std::string&>(), &r)) {
      return Status::Corruption("grant for \"" + space +
                                "\" must be \"read\", \"write\" or \"admin\"");
    }
    e->info.grants[space] = r;
  }
  if (Status s = ValidateGrants(e->info.grants); !s.ok()) {
    return Status::Corruption("\"grants\": " + s.message());
  }
  if (k.contains("user")) {
    const Json& user = k["user"];
    if (!user.is_string()) return Status::Corruption("\"user\" must be a string");
    if (Status s = ValidateKeyUser(user.get_ref<const std::string&>()); !s.ok()) {
      return Status::Corruption("\"user\": " + s.message());
    }
    e->info.user = user.get<std::string>();
  }
  if (k.contains("deny_labels")) {
    const Json& labels = k["deny_labels"];
    std::vector<std::string> names;
    bool strings = labels.is_array();
    for (const Json& l : strings ? labels : Json::array()) {
      strings = strings && l.is_string();
      if (strings) names.push_back(l.get<std::string>());
    }
    if (!strings) return Status::Corruption("\"deny_labels\" must be a list of label names");
    auto set = ParseLabels(names);
    if (!set.ok()) return Status::Corruption("\"deny_labels\": " + set.status().message());
    e->info.deny_labels = *set;
  }
  return Status::Ok();
}

Status ParseFile(const std::string& text, Snapshot* snap) {
  auto doc = util::ParseJson(text);
  if (!doc.ok()) return Status::Corruption(doc.status().message());
  if (!doc->is_object()) return Status::Corruption("not a JSON object");
  const Json& j = *doc;
  if (!j.contains("format") || j["format"] != kFormatName) {
    return Status::Corruption(std::string("\"format\" must be \"") + kFormatName + "\"");
  }
  if (!j.contains("version") || !j["version"].is_number_integer()) {
    return Status::Corruption("\"version\" must be an integer");
  }
  if (j["version"] != kFormatVersion) {
    return Status::Corruption("format version " + j["version"].dump() +
                              " is not supported (this mnemo reads version " +
                              std::to_string(kFormatVersion) + ")");
  }
  if (!j.contains("keys") || !j["keys"].is_array()) {
    return Status::Corruption("\"keys\" must be an array");
  }
  for (const auto& [field, value] : j.items()) {
    if (field != "format" && field != "version" && field != "keys") {
      return Status::Corruption("unknown field \"" + field + "\"");
    }
  }
  size_t n = 0;
  for (const Json& k : j["keys"]) {
    ++n;
    Snapshot::Entry e;
    if (Status s = ParseEntry(k, &e); !s.ok()) {
      std::string where = "key " + std::to_string(n);
      if (!e.info.id.empty()) where += " (id " + e.info.id + ")";
      return s.WithContext(where);
    }
    for (const auto& other : snap->keys) {
      if (other.info.id == e.info.id) {
        return Status::Corruption("key " + std::to_string(n) + ": duplicate id " + e.info.id);
      }
    }
    snap->keys.push_back(std::move(e));
  }
  snap->Index();
  return Status::Ok();
}

}  // namespace

Status ValidateGrants(const Grants& grants) {
  if (grants.empty()) {
    return Status::InvalidArgument("a key needs at least one grant (SPACE:ROLE, SPACE may be *)");
  }
  for (const auto& [space, role] : grants) {
    if (space != "*" && !ValidSpaceName(space)) {
      return Status::InvalidArgument("invalid space name \"" + space +
                                     "\" in grant: use \"*\" or 1-64 characters of "
                                     "A-Z a-z 0-9 _ - . (not starting with '.')");
    }
    if (role != Role::kRead && role != Role::kWrite && role != Role::kAdmin) {
      return Status::InvalidArgument("the grant on \"" + space +
                                     "\" needs a role: read, write or admin");
    }
  }
  return Status::Ok();
}

Status ParseGrant(std::string_view text, Grants* grants) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("invalid grant \"" + std::string(text) +
                                   "\": use SPACE:ROLE, e.g. notes:write or *:read");
  }
  const std::string space(text.substr(0, colon));
  const std::string_view role_name = text.substr(colon + 1);
  Role role = Role::kNone;
  if (!ParseRole(role_name, &role)) {
    return Status::InvalidArgument("invalid role \"" + std::string(role_name) + "\" in grant \"" +
                                   std::string(text) + "\": use read, write or admin");
  }
  if (grants->count(space) != 0) {
    return Status::InvalidArgument("space \"" + space + "\" is granted twice");
  }
  Grants one{{space, role}};
  MNEMO_RETURN_IF_ERROR(ValidateGrants(one));
  grants->emplace(space, role);
  return Status::Ok();
}

std::string GrantsToString(const Grants& grants) {
  std::string out;
  for (const auto& [space, role] : grants) {
    if (!out.empty()) out += ',';
    out += space;
    out += ':';
    out += RoleName(role);
  }
  return out;
}

std::optional<std::string_view> BearerToken(std::string_view v) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!v.empty() && blank(v.front())) v.remove_prefix(1);
  while (!v.empty() && blank(v.back())) v.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size() || !blank(v[kScheme.size()])) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = v[i] >= 'A' && v[i] <= 'Z' ? static_cast<char>(v[i] - 'A' + 'a') : v[i];
    if (c != kScheme[i]) return std::nullopt;
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && blank(v.front())) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  for (char c : v) {
    if (blank(c)) return std::nullopt;  // "Bearer a b" is not one token
  }
  return v;
}

KeyStore::KeyStore(std::string data_dir, std::shared_ptr<Clock> clock)
    : dir_(std::move(data_dir)),
      path_(dir_ + "/" + kFileName),
      clock_(clock ? std::move(clock) : SystemClock()) {}

KeyStore::~KeyStore() = default;

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& data_dir,
                                                 std::shared_ptr<Clock> clock) {
  if (data_dir.empty()) return Status::InvalidArgument("the data directory path is empty");
  struct stat st;
  if (::stat(data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::FailedPrecondition("no mnemo data directory at " + data_dir +
                                      " (create one with: mnemo --data " + data_dir + " init)");
  }
  std::unique_ptr<KeyStore> store(new KeyStore(data_dir, std::move(clock)));
  MNEMO_ASSIGN_OR_RETURN(auto snap, store->Load());
  store->snap_ = std::move(snap);
  store->next_check_ms_.store(store->clock_->NowMillis() + kReloadIntervalMs);
  return store;
}

Result<std::shared_ptr<const KeyStore::Snapshot>> KeyStore::Load() const {
  auto snap = std::make_shared<Snapshot>();
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::shared_ptr<const Snapshot>(std::move(snap));
    return ErrnoStatus("cannot open " + path_, errno);
  }
  // Stamp and content come from the same open file, so a concurrent rename cannot pair
  // one file's stamp with another's keys.
  struct stat st;
  std::string text;
  Status io;
  if (::fstat(fd, &st) != 0) {
    io = ErrnoStatus("cannot stat " + path_, errno);
  } else if (!S_ISREG(st.st_mode)) {
    io = Status::Corruption(path_ + " is not a regular file");
  } else {
    char buf[16384];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) io = ErrnoStatus("cannot read " + path_, errno);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > (64u << 20)) {
        io = Status::Corruption(path_ + " is larger than 64 MiB");
        break;
      }
    }
  }
  ::close(fd);
  MNEMO_RETURN_IF_ERROR(io);
  snap->stamp = StampOf(st);
  Status s = ParseFile(text, snap.get());
  if (!s.ok()) {
    return Status::Corruption(path_ + ": " + s.message() +
                              " (fix or restore the file; `mnemo keys` rewrites it only when it "
                              "can read it)");
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

std::shared_ptr<const KeyStore::Snapshot> KeyStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snap_;
}

void KeyStore::Install(std::shared_ptr<const Snapshot> snap) {
  std::lock_guard<std::mutex> lock(mu_);
  snap_ = std::move(snap);
}

bool KeyStore::HasKeys() const { return Current()->has_active; }

bool KeyStore::Configured() const { return !Current()->keys.empty(); }

std::optional<Principal> KeyStore::Authenticate(std::string_view secret) const {
  if (secret.size() != kKeyLen || secret.substr(0, kKeyPrefix.size()) != kKeyPrefix ||
      secret[kKeyPrefix.size() + kIdHexLen] != '_') {
    return std::nullopt;
  }
  const std::string id(secret.substr(kKeyPrefix.size(), kIdHexLen));
  const auto snap = Current();
  const auto it = snap->by_id.find(id);
  if (it == snap->by_id.end()) return std::nullopt;
  const Snapshot::Entry& e = snap->keys[it->second];
  auto digest = Sha256(secret);
  if (!digest.ok()) return std::nullopt;
  if (CRYPTO_memcmp(digest->data(), e.hash.data(), e.hash.size()) != 0) return std::nullopt;
  if (e.info.revoked_at) return std::nullopt;
  Principal p;
  p.key_id = e.info.id;
  p.spaces = e.info.grants;
  p.user = e.info.user;
  p.deny_labels = e.info.deny_labels;
  return p;
}

Status KeyStore::MaybeReload() {
  const TimeMs now = clock_->NowMillis();
  TimeMs due = next_check_ms_.load(std::memory_order_relaxed);
  if (now < due) return Status::Ok();
  // One caller per interval does the check; the others go on with the current keys.
  if (!next_check_ms_.compare_exchange_strong(due, now + kReloadIntervalMs)) return Status::Ok();
  MNEMO_ASSIGN_OR_RETURN(const FileStamp stamp, StatPath(path_));
  if (stamp == Current()->stamp) return Status::Ok();
  // Serialized with Create/Revoke so that an older load never replaces a newer write.
  std::lock_guard<std::mutex> writer(write_mu_);
  const auto current = Current();
  if (!stamp.exists && current->stamp.exists) {
    return Status::FailedPrecondition(
        path_ + " was removed; keeping the " + std::to_string(current->keys.size()) +
        " keys loaded before (restart the server to run without keys)");
  }
  MNEMO_ASSIGN_OR_RETURN(auto snap, Load());
  Install(std::move(snap));
  return Status::Ok();
}

std::vector<KeyInfo> KeyStore::List() const {
  const auto snap = Current();
  std::vector<KeyInfo> out;
  out.reserve(snap->keys.size());
  for (const auto& e : snap->keys) out.push_back(e.info);
  return out;
}

Status KeyStore::Mutate(const std::function<Status(Snapshot*)>& fn) {
  std::lock_guard<std::mutex> writer(write_mu_);
  MNEMO_ASSIGN_OR_RETURN(auto lock, WriterLock::Acquire(dir_ + "/" + kLockName));
  // Start from the file as it is now: another process may have changed it.
  MNEMO_ASSIGN_OR_RETURN(auto fresh, Load());
  auto next = std::make_shared<Snapshot>(*fresh);
  MNEMO_RETURN_IF_ERROR(fn(next.get()));
  next->Index();
  MNEMO_RETURN_IF_ERROR(WriteFilePrivate(dir_, path_, Serialize(*next)));
  MNEMO_ASSIGN_OR_RETURN(next->stamp, StatPath(path_));
  Install(std::move(next));
  return Status::Ok();
}

Result<NewKey> KeyStore::Create(std::string_view name, const Grants& grants, std::string_view user,
                                LabelSet deny_labels) {
  MNEMO_RETURN_IF_ERROR(ValidateName(name));
  MNEMO_RETURN_IF_ERROR(ValidateGrants(grants));
  if (!user.empty()) MNEMO_RETURN_IF_ERROR(ValidateKeyUser(user));
  NewKey out;
  MNEMO_RETURN_IF_ERROR(Mutate([&](Snapshot* snap) -> Status {
    std::string id;
    do {
      MNEMO_ASSIGN_OR_RETURN(id, RandomHex(kIdHexLen / 2));
    } while (snap->by_id.count(id) != 0);
    MNEMO_ASSIGN_OR_RETURN(std::string random, RandomHex(kSecretBytes));
    Snapshot::Entry e;
    e.info.id = id;
    e.info.name = std::string(name);
    e.info.created_at = clock_->NowMillis();
    e.info.grants = grants;
    e.info.user = std::string(user);
    e.info.deny_labels = deny_labels;
    out.secret = std::string(kKeyPrefix) + id + "_" + random;
    MNEMO_ASSIGN_OR_RETURN(e.hash, Sha256(out.secret));
    out.info = e.info;
    snap->keys.push_back(std::move(e));
    snap->by_id.emplace(id, snap->keys.size() - 1);
    return Status::Ok();
  }));
  return out;
}

Result<KeyInfo> KeyStore::Revoke(std::string_view id) {
  KeyInfo out;
  MNEMO_RETURN_IF_ERROR(Mutate([&](Snapshot* snap) -> Status {
    const auto it = snap->by_id.find(std::string(id));
    if (it == snap->by_id.end()) {
      return Status::NotFound("no API key with id \"" + std::string(id) +
                              "\" (see: mnemo keys list)");
    }
    KeyInfo& info = snap->keys[it->second].info;
    if (!info.revoked_at) info.revoked_at = clock_->NowMillis();
    out = info;
    return Status::Ok();
  }));
  return out;
}

Result<size_t> KeyStore::Reset() {
  size_t forgotten = 0;
  MNEMO_RETURN_IF_ERROR(Mutate([&](Snapshot* snap) -> Status {
    std::string active;
    for (const auto& e : snap->keys) {
      if (!e.info.revoked_at) active += (active.empty() ? "" : ", ") + e.info.id;
    }
    if (!active.empty()) {
      return Status::FailedPrecondition("API keys " + active +
                                        " are still active: revoke them first (mnemo keys "
                                        "revoke ID), then reset");
    }
    forgotten = snap->keys.size();
    snap->keys.clear();
    return Status::Ok();
  }));
  return forgotten;
}

}  // namespace mnemo::server
