// API keys of a data directory: who may call the network faces, and on which spaces.
//
// A key is "mnemo_" + 8 hex chars (its public id) + "_" + 64 hex chars (32 random
// bytes). The secret is shown once, at creation; mnemo stores only the SHA-256 of the
// whole key string, so a leaked keys.json does not leak usable keys.
//
// File: DATA_DIR/keys.json, outside every space (the `mnemo keys` CLI edits it while a
// server holds the engine's directory lock). Mode 0600, replaced atomically (temp file,
// fsync, rename, fsync of the directory). Writers serialize read-modify-write with an
// flock on DATA_DIR/keys.lock. Format (version 1):
//   {"format": "mnemo-keys", "version": 1, "keys": [
//     {"id": "1a2b3c4d", "name": "ci bot", "created_at": "2024-05-01T12:00:00Z",
//      "revoked_at": null, "grants": {"notes": "write", "*": "read"},
//      "user": "alice",   (only on an end-user key: it acts as this user only)
//      "hash": "<64 hex: SHA-256 of the whole key string>"}, ...]}
// A binary that does not know "user" refuses the file (unknown field) rather than
// read a bound key as one that covers every user.
// Every field is checked on load (types, unique 8-hex ids, 64-hex hashes, valid grants,
// no unknown fields); anything else is kCorruption naming the file, the key and the
// problem, so a server refuses to start instead of running with keys it cannot read. A
// missing file means "no keys configured". The file has a format tag and version but no
// checksum: it is small, written atomically, meant to be audited by people, and fully
// validated on load.
//
// Thread safety: Authenticate, HasKeys, Configured, List and MaybeReload may be called
// from any number of threads at once; readers never block on a reload (they work on an
// immutable snapshot). Create and Revoke are meant for the CLI; they are thread-safe too
// and also safe against other processes (flock).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/options.h"
#include "mnemo/status.h"
#include "server/auth.h"

namespace mnemo::server {

// Space name (or "*") -> role.
using Grants = std::map<std::string, Role, std::less<>>;

// One key as listed (the hash stays inside the store).
struct KeyInfo {
  std::string id;    // 8 lower-case hex chars
  std::string name;  // a label chosen at creation
  TimeMs created_at = 0;
  std::optional<TimeMs> revoked_at;
  Grants grants;
  std::string user;  // "" = every user of its spaces; else the one end user it acts as
  // Sensitivity labels it may not see: memories with any of them are out of its reach
  // on every route and tool (server/ops.cc, "Denied labels").
  LabelSet deny_labels = 0;
};

// The result of Create: the only moment the secret exists outside the caller's hands.
struct NewKey {
  KeyInfo info;
  std::string secret;  // "mnemo_<id>_<64 hex>"
};

class KeyStore {
 public:
  static constexpr const char* kFileName = "keys.json";
  static constexpr const char* kLockName = "keys.lock";

  // Loads DATA_DIR/keys.json (absent = no keys). Fails with kFailedPrecondition when
  // data_dir is not a directory, kCorruption when the file is malformed, kIOError when
  // it cannot be read. `clock` (nullptr = SystemClock()) stamps created/revoked times and
  // throttles MaybeReload.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& data_dir,
                                                std::shared_ptr<Clock> clock);

  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;
  ~KeyStore();

  // True when at least one key is not revoked.
  bool HasKeys() const;
  // True when keys.json lists at least one key, even if every one is revoked: a server
  // that has been given keys stays closed when they are all revoked, until Reset.
  bool Configured() const;

  // The principal of a valid, non-revoked key; nullopt otherwise (malformed, unknown,
  // wrong secret, revoked). The hash comparison is constant-time.
  std::optional<Principal> Authenticate(std::string_view secret) const;

  // Re-reads keys.json when its inode, size or mtime changed; checks at most once per
  // second of the clock, so it is cheap enough to call on every request. A failed
  // reload keeps the keys loaded before and returns the error (again at the next check).
  // A keys.json that disappears is such an error: removing it never opens a server.
  Status MaybeReload();

  // Every key, oldest first, as of the last load.
  std::vector<KeyInfo> List() const;

  // Adds a key (name: 1-100 chars, no control characters; grants: see ValidateGrants;
  // user: "" or an end user, see ValidateKeyUser) and writes the file. The returned
  // secret is not stored anywhere.
  Result<NewKey> Create(std::string_view name, const Grants& grants, std::string_view user = {},
                        LabelSet deny_labels = 0);

  // Marks a key revoked (kNotFound for an unknown id; revoking twice keeps the first
  // time). Returns the key as it now is.
  Result<KeyInfo> Revoke(std::string_view id);

  // Forgets every key once all of them are revoked, so that the data directory returns
  // to the keyless mode (anonymous calls on loopback only); a running server follows
  // within a second. kFailedPrecondition naming the active keys otherwise. Returns how
  // many revoked keys were forgotten.
  Result<size_t> Reset();

  const std::string& path() const { return path_; }

  // Implementation details of keys.cc (public only so that its helpers can name them).
  struct Snapshot;
  struct FileStamp {  // identity of one version of keys.json
    bool exists = false;
    uint64_t inode = 0, device = 0;
    int64_t size = 0, mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };

 private:
  KeyStore(std::string data_dir, std::shared_ptr<Clock> clock);
  // Reads and parses the file as it is now.
  Result<std::shared_ptr<const Snapshot>> Load() const;
  std::shared_ptr<const Snapshot> Current() const;
  void Install(std::shared_ptr<const Snapshot> snap);
  // Read-modify-write of the file, serialized in the process (write_mu_) and across
  // processes (flock on keys.lock); `fn` edits a copy of the file's current keys.
  Status Mutate(const std::function<Status(Snapshot*)>& fn);

  const std::string dir_;
  const std::string path_;
  const std::shared_ptr<Clock> clock_;
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snap_;  // protected by mu_; never null after Open
  // Serializes Create, Revoke and the reload step of MaybeReload (an older load must
  // never replace a newer write). Held while waiting for the flock.
  std::mutex write_mu_;
  std::atomic<TimeMs> next_check_ms_{0};  // MaybeReload: no file check before this time
};

// What to tell someone who revoked the last active key.
inline constexpr std::string_view kNoActiveKeysNote =
    "no active API key remains: calls over HTTP and MCP are refused until you create a key "
    "(mnemo keys create) or return to the keyless loopback mode (mnemo keys reset)";

// Checks grants: at least one; each space is "*" or a space name (1-64 chars of
// [A-Za-z0-9_.-], not starting with '.'); each role read, write or admin.
Status ValidateGrants(const Grants& grants);
// Parses "SPACE:ROLE" (the CLI's --grant) into `grants`; a space given twice is an error.
Status ParseGrant(std::string_view text, Grants* grants);
// The user an end-user key is bound to: 1-256 bytes of UTF-8 without control characters.
Status ValidateKeyUser(std::string_view user);
std::string GrantsToString(const Grants& grants);  // "notes:write,*:read"

// The token of an "Authorization" header value "Bearer <token>" (scheme
// case-insensitive, surrounding blanks ignored); nullopt for any other form.
std::optional<std::string_view> BearerToken(std::string_view header_value);

}  // namespace mnemo::server
