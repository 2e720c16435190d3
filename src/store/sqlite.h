// A thin RAII layer over the SQLite C API with Status errors.
//
// Thread safety: a Db (and its statements) must be used by one thread at a time; mnemo
// gives each space one writer connection (guarded by the space's write mutex) and a
// pool of reader connections (one per concurrent reader).
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/status.h"

namespace mnemo::store {

// What the current write transaction changed in table `memories`, recorded by the store
// functions that change it (memory_store.h, lifecycle_store.h) so that the engine can
// bring the in-memory indexes up to date once the transaction commits. Every such change
// is also logged durably in `index_log` (op kRow) for the indexes' replay after a crash.
struct ChangeJournal {
  std::vector<Memory> rows;      // rows as written, in order (the last one of an id wins)
  std::vector<MemoryId> reread;  // rows changed in place (a tier): read them back
  std::vector<MemoryId> erased;  // rows deleted
  std::vector<std::pair<MemoryId, MemoryId>> next_links;  // "next" links added: (from, to)
  int64_t last_seq = 0;  // largest index_log seq written by the transaction
  bool empty() const {
    return rows.empty() && reread.empty() && erased.empty() && next_links.empty() && last_seq == 0;
  }
  void Clear() { *this = ChangeJournal(); }
};

// A prepared statement borrowed from a Db's cache; reset and unbound on destruction.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s, bool owned) : s_(s), owned_(owned) {}
  Stmt(Stmt&& o) noexcept : s_(o.s_), owned_(o.owned_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt();

  // Binds are 1-based, like SQLite's.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view v);  // copied (SQLITE_TRANSIENT)
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::optional<int64_t>& v);
  Stmt& BindBlob(int i, std::string_view v);
  Stmt& BindNull(int i);

  // Returns true while a row is available.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();
  // Steps to completion, collecting column 0 of every row as an integer.
  Result<std::vector<int64_t>> Ints();
  // Rewinds to run again (bindings are kept).
  void Reset() { sqlite3_reset(s_); }

  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Double(int col) const { return sqlite3_column_double(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::optional<int64_t> OptInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }
  std::string_view TextView(int col) const;
  std::string Text(int col) const { return std::string(TextView(col)); }
  std::string_view Blob(int col) const;

 private:
  sqlite3_stmt* s_;
  bool owned_;
};

// How a connection does its page I/O (mnemo::Options: durability, sqlite_*_bytes).
struct DbOptions {
  bool full_sync = true;           // synchronous=FULL, else NORMAL
  int64_t mmap_bytes = 0;          // PRAGMA mmap_size
  int64_t cache_bytes = 16 << 20;  // PRAGMA cache_size
  // The writer's commits leave WAL checkpoints to another thread (Db::CheckpointWal on
  // a second read-write connection) until the WAL holds kMaxWalPages; then the committing
  // connection checkpoints itself, as SQLite's autocheckpoint would at 1,000 pages.
  bool background_checkpoint = false;
};

// WAL pages (4 KiB) past which a committing connection checkpoints even when checkpoints
// run in the background (they fall behind): 64 MiB.
inline constexpr int kMaxWalPages = 16384;

class Db {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // Opens (creating when kReadWrite) the database at `path` in WAL mode with foreign
  // keys off, a busy timeout, and the "mnemo" FTS5 tokenizer registered (migrations from
  // schema v4 drop a table that used it).
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Mode mode,
                                          const DbOptions& options);
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Mode mode, bool full_sync) {
    DbOptions o;
    o.full_sync = full_sync;
    return Open(path, mode, o);
  }
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status Exec(std::string_view sql);
  // Statements are cached by SQL text; `cache=false` for one-off dynamic SQL.
  Result<Stmt> Prepare(std::string_view sql, bool cache = true);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() const { return db_; }
  const std::string& path() const { return path_; }
  // Changes recorded since the journal was last taken (see ChangeJournal).
  ChangeJournal& journal() { return journal_; }
  // Pages in the WAL after this connection's last commit (with background_checkpoint).
  int64_t wal_pages() const { return wal_pages_.load(std::memory_order_relaxed); }
  // Copies committed WAL frames into the database file without waiting for readers or
  // writers (SQLITE_CHECKPOINT_PASSIVE); the next writer restarts the WAL from its start
  // once all of it is copied and no reader needs it.
  Status CheckpointWal();
  // Copies the whole WAL into the database and truncates it to zero bytes, waiting for
  // readers (after a purge: no erased text stays in the WAL).
  Status TruncateWal() { return Exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Error(std::string_view what) const;

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  ChangeJournal journal_;
  std::atomic<int64_t> wal_pages_{0};
  friend class Stmt;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Db* db) : db_(db) {}
  ~Transaction();
  Status Begin() { return db_->Exec("BEGIN IMMEDIATE"); }
  Status Commit();

 private:
  Db* db_;
  bool open_ = true;
};

// A read transaction: every read between Begin() and the destructor sees one consistent
// snapshot of the database, whatever writers commit meanwhile.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Db* db) : db_(db) {}
  ~ReadSnapshot() {
    if (begun_) (void)db_->Exec("COMMIT");
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  Status Begin() {
    Status s = db_->Exec("BEGIN");
    begun_ = s.ok();
    return s;
  }

 private:
  Db* db_;
  bool begun_ = false;
};

// Maps a SQLite result code to a Status with context.
Status SqliteStatus(int rc, sqlite3* db, std::string_view what);

}  // namespace mnemo::store
