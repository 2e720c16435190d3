#include "text/fts5_tokenizer.h"

#include <memory>
#include <string>
#include <string_view>

#include "text/analyzer.h"

namespace mnemo::text {
namespace {

// The tokenizer has no state, so every instance is this one object; FTS5 only passes the
// handle back to us and never looks inside it.
char g_instance;

int Create(void* /*context*/, const char** /*args*/, int num_args, Fts5Tokenizer** out) {
  // Options would silently change what is indexed; refuse them rather than ignore them.
  if (num_args != 0) return SQLITE_ERROR;
  *out = reinterpret_cast<Fts5Tokenizer*>(&g_instance);
  return SQLITE_OK;
}

void Delete(Fts5Tokenizer* /*tokenizer*/) {}

using TokenFn = int (*)(void* ctx, int tflags, const char* token, int token_len, int begin,
                        int end);

int Tokenize(Fts5Tokenizer* /*tokenizer*/, void* ctx, int flags, const char* text, int text_len,
             TokenFn emit) {
  if (text_len <= 0) return SQLITE_OK;
  const std::string_view input(text, static_cast<size_t>(text_len));
  // The analyzer cannot be stopped midway, so after the first error the remaining tokens
  // are skipped and that error is returned, as FTS5 requires.
  int rc = SQLITE_OK;
  const auto forward = [&](std::string_view token, size_t begin, size_t end) {
    if (rc != SQLITE_OK) return;
    rc = emit(ctx, 0, token.data(), static_cast<int>(token.size()), static_cast<int>(begin),
              static_cast<int>(end));
  };
  // Query text (with or without a trailing '*' prefix marker) comes from mnemo and already
  // holds terms: lower-case it for hand-written queries, but never stem it again.
  if ((flags & FTS5_TOKENIZE_QUERY) != 0) {
    ForEachWord(input, forward);
  } else {
    ForEachTerm(input, forward);
  }
  return rc;
}

struct StatementDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

}  // namespace

Status RegisterFts5Tokenizer(sqlite3* db) {
  if (db == nullptr) return Status::InvalidArgument("RegisterFts5Tokenizer: null connection");
  // The documented way to reach the FTS5 API from a connection (SQLite >= 3.20).
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &raw, nullptr) != SQLITE_OK) {
    return Status::FailedPrecondition(std::string("SQLite was built without FTS5: ") +
                                      sqlite3_errmsg(db));
  }
  std::unique_ptr<sqlite3_stmt, StatementDeleter> stmt(raw);
  fts5_api* api = nullptr;
  sqlite3_bind_pointer(stmt.get(), 1, &api, "fts5_api_ptr", nullptr);
  sqlite3_step(stmt.get());
  stmt.reset();
  if (api == nullptr || api->iVersion < 2) {
    return Status::FailedPrecondition("SQLite's FTS5 API is missing or older than version 2");
  }
  // FTS5 copies the struct, but a static one makes the lifetime obviously right.
  static fts5_tokenizer tokenizer = {Create, Delete, Tokenize};
  const int rc = api->xCreateTokenizer(api, "mnemo", nullptr, &tokenizer, nullptr);
  if (rc != SQLITE_OK) {
    return Status::Internal(std::string("registering the FTS5 tokenizer 'mnemo' failed: ") +
                            sqlite3_errstr(rc));
  }
  return Status::Ok();
}

}  // namespace mnemo::text
