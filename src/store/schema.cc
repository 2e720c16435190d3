#include "store/schema.h"

#include <string>
#include <vector>

namespace mnemo::store {
namespace {

// Migration N takes the schema from version N-1 to N. Never edit a released migration:
// append a new one.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
      // v1: the initial schema.
      R"sql(
CREATE TABLE space_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

-- Current version of every memory. Enum columns hold the enum's ordinal (names in
-- src/util/names.cc); list columns hold JSON arrays, NULL when empty; metadata holds a
-- JSON object, NULL when empty.
CREATE TABLE memories(
  id INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  text TEXT NOT NULL,
  user_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  role TEXT NOT NULL,
  speaker TEXT NOT NULL,
  event_time INTEGER,
  valid_from INTEGER,
  valid_to INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expired_at INTEGER,
  importance REAL NOT NULL,
  strength REAL NOT NULL,
  last_access INTEGER,
  access_count INTEGER NOT NULL,
  tier INTEGER NOT NULL,
  state INTEGER NOT NULL,
  version INTEGER NOT NULL,
  origin INTEGER NOT NULL,
  sources TEXT,
  tags TEXT,
  entities TEXT,
  metadata TEXT
);
CREATE INDEX memories_by_user ON memories(user_id, id);
CREATE INDEX memories_by_session ON memories(session_id, id) WHERE session_id <> '';
CREATE INDEX memories_by_time ON memories(event_time) WHERE event_time IS NOT NULL;

CREATE TABLE tags(tag TEXT NOT NULL, memory_id INTEGER NOT NULL,
                  PRIMARY KEY(tag, memory_id)) WITHOUT ROWID;

-- Append-only. `before` is the memory's JSON before the operation (NULL for add, and
-- after a purge erased it).
CREATE TABLE history(
  seq INTEGER PRIMARY KEY,
  memory_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  op INTEGER NOT NULL,
  before TEXT,
  actor TEXT NOT NULL,
  time INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX history_by_memory ON history(memory_id, seq);

CREATE TABLE links(
  from_id INTEGER NOT NULL,
  to_id INTEGER NOT NULL,
  type INTEGER NOT NULL,
  weight REAL NOT NULL,
  PRIMARY KEY(from_id, type, to_id)
) WITHOUT ROWID;
CREATE INDEX links_by_to ON links(to_id);

CREATE TABLE embedders(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                       dimension INTEGER NOT NULL);
-- One quantized vector per memory (src/index/quantize.h).
CREATE TABLE vectors(id INTEGER PRIMARY KEY, embedder INTEGER NOT NULL, vec BLOB NOT NULL);

-- Changes to the vector index since its last snapshot (op 0 upsert, 1 remove, 2 erase).
-- AUTOINCREMENT keeps seq increasing after the log is truncated.
CREATE TABLE index_log(seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL,
                       op INTEGER NOT NULL);

-- Lexical index. Contentless: the text lives only in `memories`. `speaker` is indexed
-- so that questions naming a person find what that person said. `scope` holds the
-- user's scope token so that a user's search intersects posting lists instead of
-- filtering after ranking. detail=full (the default) because with detail=column
-- bm25() scores every row 0 in SQLite 3.40.
CREATE VIRTUAL TABLE memories_fts USING fts5(text, speaker, scope, content='',
                                             tokenize='mnemo');
)sql",
      // v2: the background pipeline (src/engine/pipeline.cc, docs/pipeline.md).
      R"sql(
-- Durable background work. kind: 0 extract (payload: the episode ids), 1 embed (payload:
-- the ids whose vectors are missing). state: 0 pending, 1 done, 2 dead (dead letter,
-- with last_error). A job's effects and its move to done commit in one transaction, so a
-- crash mid-job leaves it pending and its retry cannot duplicate anything.
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  state INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  items INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_run_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_error TEXT,
  calls INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  derived INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs(state, next_run_at);

-- Provider usage per UTC day (the daily token budget and `mnemo jobs stats`).
CREATE TABLE usage(
  day TEXT NOT NULL,
  provider TEXT NOT NULL,
  requests INTEGER NOT NULL,
  calls INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  PRIMARY KEY(day, provider)
) WITHOUT ROWID;

-- Derived memories by attribute slot (consolidation finds contradictions through it).
CREATE INDEX memories_by_slot ON memories(user_id, json_extract(metadata, '$.slot'))
  WHERE kind <> 0;
)sql",
      // v3: re-embedding when the configured embedder changes (src/engine/embed_jobs.cc).
      R"sql(
-- While space_meta `embedder_next` names a new embedder, the memories' vectors from it
-- collect here (filled by `reembed` jobs, kind 2, payload [first id, last id], and by
-- writes); `vectors` and its index keep serving searches. When every memory has its row
-- here, one transaction moves them into `vectors` and updates `embedder`.
CREATE TABLE vectors_next(id INTEGER PRIMARY KEY, embedder INTEGER NOT NULL, vec BLOB NOT NULL);
)sql",
      // v4: the lifecycle (src/engine/space_lifecycle.cc, docs/lifecycle.md).
      R"sql(
-- Expiry (TTL): an active memory is retired when expires_at passes; NULL: never.
ALTER TABLE memories ADD COLUMN expires_at INTEGER;
CREATE INDEX memories_by_expiry ON memories(expires_at) WHERE expires_at IS NOT NULL;
-- Expired memories wait here for the purge policy (retired by expiry, by retirement time).
CREATE INDEX memories_expired ON memories(updated_at) WHERE state=1 AND expires_at IS NOT NULL;
-- Tiers: the working set of a session, and the capacity limit's coldest memories.
CREATE INDEX memories_by_tier ON memories(tier, user_id) WHERE state=0;
)sql",
      // v5: the lexical index leaves SQLite; the pipeline's lookups get indexes.
      R"sql(
-- BM25 search moves to an in-memory index with score-bounded top-k
-- (src/index/lexical_index.h), snapshotted in lexical.idx and brought up to date from
-- index_log, where op 3 now means "the memories row of this id changed".
DROP TABLE memories_fts;
-- Consolidation looks up a user's active derived memories by slot, by exact text and by
-- entity through indexes that hold active memories only (a slot's history of superseded
-- values would otherwise be read at every lookup); queries repeat the partial indexes'
-- conditions (kind<>0 AND state=0) so that SQLite uses them. memory_entities holds the
-- lower-cased entities of active memories.
DROP INDEX memories_by_slot;
CREATE INDEX memories_by_slot ON memories(user_id, json_extract(metadata, '$.slot'))
  WHERE kind<>0 AND state=0;
CREATE INDEX memories_derived_text ON memories(user_id, text) WHERE kind<>0 AND state=0;
CREATE TABLE memory_entities(user_id TEXT NOT NULL, entity TEXT NOT NULL,
                             memory_id INTEGER NOT NULL,
                             PRIMARY KEY(user_id, entity, memory_id)) WITHOUT ROWID;
CREATE INDEX memory_entities_by_memory ON memory_entities(memory_id);
INSERT OR IGNORE INTO memory_entities(user_id, entity, memory_id)
  SELECT m.user_id, lower(e.value), m.id FROM memories m, json_each(m.entities) e
  WHERE m.entities IS NOT NULL AND m.state=0 AND e.type='text';
-- Scheduling a session's summary looks up its pending job by key, not by scanning the
-- queue.
CREATE INDEX jobs_pending_by_key ON jobs(kind, user_id, session_id) WHERE state=0;
-- A memory's tags are rewritten by id (updates, erasure): without this, by a scan.
CREATE INDEX tags_by_memory ON tags(memory_id);
-- The working sets (tier 0) of sessions, bounded at every write: a small index that the
-- bound and the idle check read instead of the user's rows.
CREATE INDEX memories_working ON memories(user_id, session_id, id) WHERE tier=0 AND state=0;
-- Recalled memories, the only short-term ones whose heat can reach the promotion
-- threshold: the maintenance pass reads these (and the long-term tier), not every row.
CREATE INDEX memories_recalled ON memories(tier) WHERE state=0 AND access_count>0;
)sql",
      // v6: credentials found at write (write/secrets.h) live here, not in the text.
      R"sql(
-- Secret n of a memory: the value its text shows as "[secret n: kind]". Read only to
-- reveal a memory to an admin; erased with the memory.
CREATE TABLE secrets(memory_id INTEGER NOT NULL, n INTEGER NOT NULL, kind TEXT NOT NULL,
                     value TEXT NOT NULL, PRIMARY KEY(memory_id, n)) WITHOUT ROWID;
)sql",
      // v7: quarantine (write/injection.h) and sensitivity labels (write/sensitivity.h);
      // docs/security.md.
      R"sql(
-- Why a memory is quarantined (text from a low-trust origin that reads as instructions
-- to the agent, or by hand); NULL when it is not.
ALTER TABLE memories ADD COLUMN quarantine TEXT;
-- Its sensitive categories: bit (1 << mnemo::Label) for each; 0 for none.
ALTER TABLE memories ADD COLUMN labels INTEGER NOT NULL DEFAULT 0;
)sql",
  };
  return kMigrations;
}

}  // namespace

Result<int> SchemaVersion(Db& db) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("PRAGMA user_version", false));
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<int>(st.Int(0)) : 0;
}

Result<int> Migrate(Db& db) { return MigrateTo(db, kSchemaVersion); }

Result<int> MigrateTo(Db& db, int target) {
  MNEMO_ASSIGN_OR_RETURN(int found, SchemaVersion(db));
  const auto& migrations = Migrations();
  const int latest = static_cast<int>(migrations.size());
  static_assert(kSchemaVersion >= 1);
  if (latest != kSchemaVersion || target < 1 || target > latest) {
    return Status::Internal("schema: cannot migrate to v" + std::to_string(target));
  }
  if (found > latest) {
    return Status::FailedPrecondition(db.path() + " has schema version " + std::to_string(found) +
                                      ", newer than this mnemo supports (" +
                                      std::to_string(latest) + "); upgrade mnemo");
  }
  for (int v = found + 1; v <= target; ++v) {
    Transaction txn(&db);
    MNEMO_RETURN_IF_ERROR(txn.Begin());
    Status s = db.Exec(migrations[static_cast<size_t>(v - 1)]);
    if (!s.ok()) return s.WithContext("schema migration to v" + std::to_string(v));
    MNEMO_RETURN_IF_ERROR(db.Exec("PRAGMA user_version=" + std::to_string(v)));
    MNEMO_RETURN_IF_ERROR(txn.Commit());
  }
  return found;
}

}  // namespace mnemo::store
