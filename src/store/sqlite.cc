#include "store/sqlite.h"

#include <algorithm>

#include "text/analyzer.h"
#include "text/fts5_tokenizer.h"

namespace mnemo::store {

Status SqliteStatus(int rc, sqlite3* db, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg);
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Status::IOError(msg);
    case SQLITE_CONSTRAINT:
      return Status::Conflict(msg);
    case SQLITE_TOOBIG:
      return Status::TooLarge(msg);
    default:
      return Status::Internal(msg);
  }
}

Stmt::~Stmt() {
  if (!s_) return;
  if (owned_) {
    sqlite3_finalize(s_);
  } else {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  sqlite3_bind_double(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Stmt& Stmt::Bind(int i, const std::optional<int64_t>& v) { return v ? Bind(i, *v) : BindNull(i); }
Stmt& Stmt::BindBlob(int i, std::string_view v) {
  sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(s_);
  return SqliteStatus(rc, db, "SQLite");
}

Status Stmt::Run() {
  for (;;) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

Result<std::vector<int64_t>> Stmt::Ints() {
  std::vector<int64_t> out;
  for (;;) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return out;
    out.push_back(Int(0));
  }
}

std::string_view Stmt::TextView(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  if (!p) return {};
  return std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

std::string_view Stmt::Blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
  if (!p) return {};
  return std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

namespace {
// mnemo_fold(text): text::FoldCase, for the filter language's icontains.
void FoldFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const std::string folded = text::FoldCase(
      std::string_view(p ? p : "", static_cast<size_t>(sqlite3_value_bytes(argv[0]))));
  sqlite3_result_text(ctx, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
}
}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, Mode mode, const DbOptions& options) {
  sqlite3* raw = nullptr;
  const int flags = (mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY
                                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteStatus(rc, raw, "cannot open " + path);
    sqlite3_close(raw);
    return s;
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  MNEMO_RETURN_IF_ERROR(text::RegisterFts5Tokenizer(raw));
  if (sqlite3_create_function_v2(raw, "mnemo_fold", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                 &FoldFunction, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db->Error("cannot register mnemo_fold");
  }
  if (mode == Mode::kReadWrite) {
    MNEMO_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
    // Freed pages are zeroed so that purged text does not linger in the file.
    MNEMO_RETURN_IF_ERROR(db->Exec("PRAGMA secure_delete=ON"));
  }
  MNEMO_RETURN_IF_ERROR(
      db->Exec(options.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  MNEMO_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=OFF"));
  // cache_size in KiB when negative.
  MNEMO_RETURN_IF_ERROR(db->Exec(
      "PRAGMA cache_size=-" + std::to_string(std::max<int64_t>(options.cache_bytes, 1024) / 1024)));
  MNEMO_RETURN_IF_ERROR(
      db->Exec("PRAGMA mmap_size=" + std::to_string(std::max<int64_t>(options.mmap_bytes, 0))));
  MNEMO_RETURN_IF_ERROR(db->Exec("PRAGMA temp_store=MEMORY"));
  if (options.background_checkpoint && mode == Mode::kReadWrite) {
    // Replaces the autocheckpoint hook (sqlite3_wal_autocheckpoint is one).
    sqlite3_wal_hook(
        raw,
        [](void* arg, sqlite3* conn, const char*, int pages) -> int {
          static_cast<Db*>(arg)->wal_pages_.store(pages, std::memory_order_relaxed);
          if (pages >= kMaxWalPages) {
            sqlite3_wal_checkpoint_v2(conn, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
          }
          return SQLITE_OK;
        },
        db.get());
  }
  return db;
}

Status Db::CheckpointWal() {
  const int rc =
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return Error("WAL checkpoint");
  return Status::Ok();
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Db::Error(std::string_view what) const {
  return SqliteStatus(sqlite3_errcode(db_), db_, what);
}

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Status st = SqliteStatus(rc, nullptr, "SQLite");
    return Status(st.code(), "SQLite: " + msg + " (in: " + s.substr(0, 80) + ")");
  }
  return Status::Ok();
}

Result<Stmt> Db::Prepare(std::string_view sql, bool cache) {
  if (cache) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return Stmt(it->second, false);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, "cannot prepare SQL");
  if (!cache) return Stmt(stmt, true);
  cache_.emplace(std::string(sql), stmt);
  return Stmt(stmt, false);
}

Transaction::~Transaction() {
  if (open_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Status s = db_->Exec("COMMIT");
  if (s.ok()) open_ = false;
  return s;
}

}  // namespace mnemo::store
