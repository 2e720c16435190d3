#include "store/memory_store.h"

#include <algorithm>

#include "store/sql_values.h"
#include "util/json_codec.h"

namespace mnemo::store {
namespace {

constexpr const char* kColumns =
    "m.id, m.kind, m.text, m.user_id, m.agent_id, m.session_id, m.role, m.speaker, "
    "m.event_time, m.valid_from, m.valid_to, m.created_at, m.updated_at, m.expired_at, "
    "m.importance, m.strength, m.last_access, m.access_count, m.tier, m.state, m.version, "
    "m.origin, m.sources, m.tags, m.entities, m.metadata, m.expires_at, m.quarantine, m.labels";
constexpr int kMemoryColumnCount = 29;  // in kColumns; a query's own columns come after

template <typename T>
std::string ListToText(const std::vector<T>& v) {
  if (v.empty()) return {};
  return util::DumpJson(util::Json(v));
}

template <typename T>
std::vector<T> TextToList(std::string_view text) {
  std::vector<T> out;
  if (text.empty()) return out;
  auto j = util::ParseStoredJson(text);
  if (!j.ok() || !j->is_array()) return out;
  for (const auto& e : *j) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    } else {
      if (e.is_number_integer()) out.push_back(e.get<T>());
    }
  }
  return out;
}

Memory ReadMemoryRow(const Stmt& st) {
  Memory m;
  m.id = st.Int(0);
  m.kind = static_cast<Kind>(st.Int(1));
  m.text = st.Text(2);
  m.user_id = st.Text(3);
  m.agent_id = st.Text(4);
  m.session_id = st.Text(5);
  m.role = st.Text(6);
  m.speaker = st.Text(7);
  m.event_time = st.OptInt(8);
  m.valid_from = st.OptInt(9);
  m.valid_to = st.OptInt(10);
  m.created_at = st.Int(11);
  m.updated_at = st.Int(12);
  m.expired_at = st.OptInt(13);
  m.importance = st.Double(14);
  m.strength = st.Double(15);
  m.last_access = st.OptInt(16);
  m.access_count = st.Int(17);
  m.tier = static_cast<Tier>(st.Int(18));
  m.state = static_cast<State>(st.Int(19));
  m.version = st.Int(20);
  m.origin = static_cast<Origin>(st.Int(21));
  m.sources = TextToList<MemoryId>(st.TextView(22));
  m.tags = TextToList<std::string>(st.TextView(23));
  m.entities = TextToList<std::string>(st.TextView(24));
  m.metadata = st.IsNull(25) ? "{}" : st.Text(25);
  m.expires_at = st.OptInt(26);
  m.quarantine = st.IsNull(27) ? std::string() : st.Text(27);
  m.labels = static_cast<LabelSet>(st.Int(28));
  static_assert(kMemoryColumnCount == 29);
  return m;
}

// Binds every column after id, in kColumns order, starting at index `i`.
void BindMemoryFields(Stmt& st, const Memory& m, int i) {
  auto text_or_null = [&](int idx, const std::string& s) {
    if (s.empty()) {
      st.BindNull(idx);
    } else {
      st.Bind(idx, s);
    }
  };
  st.Bind(i++, static_cast<int64_t>(m.kind));
  st.Bind(i++, m.text);
  st.Bind(i++, m.user_id);
  st.Bind(i++, m.agent_id);
  st.Bind(i++, m.session_id);
  st.Bind(i++, m.role);
  st.Bind(i++, m.speaker);
  st.Bind(i++, m.event_time);
  st.Bind(i++, m.valid_from);
  st.Bind(i++, m.valid_to);
  st.Bind(i++, m.created_at);
  st.Bind(i++, m.updated_at);
  st.Bind(i++, m.expired_at);
  st.Bind(i++, m.importance);
  st.Bind(i++, m.strength);
  st.Bind(i++, m.last_access);
  st.Bind(i++, m.access_count);
  st.Bind(i++, static_cast<int64_t>(m.tier));
  st.Bind(i++, static_cast<int64_t>(m.state));
  st.Bind(i++, m.version);
  st.Bind(i++, static_cast<int64_t>(m.origin));
  text_or_null(i++, ListToText(m.sources));
  text_or_null(i++, ListToText(m.tags));
  text_or_null(i++, ListToText(m.entities));
  text_or_null(i++, m.metadata == "{}" ? std::string() : m.metadata);
  st.Bind(i++, m.expires_at);
  text_or_null(i++, m.quarantine);
  st.Bind(i++, static_cast<int64_t>(m.labels));
}

Status TagsInsert(Db& db, const Memory& m) {
  for (const auto& tag : m.tags) {
    MNEMO_ASSIGN_OR_RETURN(Stmt st,
                           db.Prepare("INSERT OR IGNORE INTO tags(tag, memory_id) VALUES(?,?)"));
    MNEMO_RETURN_IF_ERROR(st.Bind(1, tag).Bind(2, m.id).Run());
  }
  return Status::Ok();
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// memory_entities lists the entities of active memories (schema v5).
Status EntitiesInsert(Db& db, const Memory& m) {
  if (m.state != State::kActive) return Status::Ok();
  for (const auto& e : m.entities) {
    MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("INSERT OR IGNORE INTO memory_entities(user_id, "
                                               "entity, memory_id) VALUES(?,?,?)"));
    MNEMO_RETURN_IF_ERROR(st.Bind(1, m.user_id).Bind(2, AsciiLower(e)).Bind(3, m.id).Run());
  }
  return Status::Ok();
}

Status EntitiesDelete(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("DELETE FROM memory_entities WHERE memory_id=?"));
  return st.Bind(1, id).Run();
}

Status TagsDelete(Db& db, MemoryId id) {
  if (id == 0) return Status::Ok();
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("DELETE FROM tags WHERE memory_id=?"));
  return st.Bind(1, id).Run();
}

Status RunOne(Db& db, const char* sql, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(sql));
  return st.Bind(1, id).Run();
}

Result<int64_t> ScalarInt(Db& db, std::string_view sql, bool cache = true) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(sql, cache));
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  return row && !st.IsNull(0) ? st.Int(0) : 0;
}

std::string Placeholders(size_t n) {
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
  return s;
}

// The size of the IN list a statement for n ids is prepared with (n <= limit): a power of
// two from 8, so that a few cached statements serve every call (the parameters past n stay
// unbound, i.e. NULL, which matches nothing). Preparing one per call cost a search more
// than reading its rows.
size_t InListSize(size_t n, size_t limit) {
  size_t size = 8;
  while (size < n) size *= 2;
  return std::min(size, limit);
}

}  // namespace

Status InsertMemory(Db& db, const Memory& m) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare("INSERT INTO memories(id, kind, text, user_id, agent_id, session_id, role, "
                 "speaker, event_time, valid_from, valid_to, created_at, updated_at, expired_at, "
                 "importance, strength, last_access, access_count, tier, state, version, origin, "
                 "sources, tags, entities, metadata, expires_at, quarantine, labels) "
                 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  st.Bind(1, m.id);
  BindMemoryFields(st, m, 2);
  Status s = st.Run();
  if (s.code() == StatusCode::kConflict) {
    return Status::Conflict("memory id " + std::to_string(m.id) + " already exists");
  }
  MNEMO_RETURN_IF_ERROR(s);
  MNEMO_RETURN_IF_ERROR(TagsInsert(db, m));
  MNEMO_RETURN_IF_ERROR(EntitiesInsert(db, m));
  MNEMO_RETURN_IF_ERROR(LogIndexChange(db, m.id, IndexOp::kRow).status());
  db.journal().rows.push_back(m);
  return Status::Ok();
}

Result<std::optional<Memory>> GetMemory(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare(std::string("SELECT ") + kColumns + " FROM memories m WHERE m.id=?"));
  st.Bind(1, id);
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<Memory>();
  return std::optional<Memory>(ReadMemoryRow(st));
}

Status ReplaceMemory(Db& db, const Memory& before, const Memory& after) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare("UPDATE memories SET kind=?, text=?, user_id=?, agent_id=?, session_id=?, "
                 "role=?, speaker=?, event_time=?, valid_from=?, valid_to=?, created_at=?, "
                 "updated_at=?, expired_at=?, importance=?, strength=?, last_access=?, "
                 "access_count=?, tier=?, state=?, version=?, origin=?, sources=?, tags=?, "
                 "entities=?, metadata=?, expires_at=?, quarantine=?, labels=? WHERE id=?"));
  BindMemoryFields(st, after, 1);
  st.Bind(kMemoryColumnCount, after.id);
  MNEMO_RETURN_IF_ERROR(st.Run());
  if (before.tags != after.tags) {
    MNEMO_RETURN_IF_ERROR(TagsDelete(db, after.id));
    MNEMO_RETURN_IF_ERROR(TagsInsert(db, after));
  }
  if (before.entities != after.entities || before.user_id != after.user_id ||
      before.state != after.state) {
    MNEMO_RETURN_IF_ERROR(EntitiesDelete(db, after.id));
    MNEMO_RETURN_IF_ERROR(EntitiesInsert(db, after));
  }
  MNEMO_RETURN_IF_ERROR(LogIndexChange(db, after.id, IndexOp::kRow).status());
  db.journal().rows.push_back(after);
  return Status::Ok();
}

Status EraseMemory(Db& db, const Memory& m) {
  MNEMO_RETURN_IF_ERROR(LogIndexChange(db, m.id, IndexOp::kRow).status());
  db.journal().erased.push_back(m.id);
  MNEMO_RETURN_IF_ERROR(TagsDelete(db, m.id));
  MNEMO_RETURN_IF_ERROR(EntitiesDelete(db, m.id));
  MNEMO_RETURN_IF_ERROR(RunOne(db, "DELETE FROM vectors WHERE id=?", m.id));
  MNEMO_RETURN_IF_ERROR(RunOne(db, "DELETE FROM vectors_next WHERE id=?", m.id));
  MNEMO_RETURN_IF_ERROR(RunOne(db, "DELETE FROM links WHERE from_id=?", m.id));
  MNEMO_RETURN_IF_ERROR(RunOne(db, "DELETE FROM links WHERE to_id=?", m.id));
  MNEMO_RETURN_IF_ERROR(RunOne(db, "DELETE FROM secrets WHERE memory_id=?", m.id));
  return RunOne(db, "DELETE FROM memories WHERE id=?", m.id);
}

Status PutSecrets(Db& db, MemoryId id,
                  const std::vector<std::pair<std::string, std::string>>& kind_value) {
  MNEMO_RETURN_IF_ERROR(RunOne(db, "DELETE FROM secrets WHERE memory_id=?", id));
  for (size_t i = 0; i < kind_value.size(); ++i) {
    MNEMO_ASSIGN_OR_RETURN(
        Stmt st, db.Prepare("INSERT INTO secrets(memory_id, n, kind, value) VALUES(?,?,?,?)"));
    st.Bind(1, id).Bind(2, static_cast<int64_t>(i + 1));
    st.Bind(3, kind_value[i].first).Bind(4, kind_value[i].second);
    MNEMO_RETURN_IF_ERROR(st.Run());
  }
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, std::string>>> ReadSecrets(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT kind, value FROM secrets WHERE memory_id=? ORDER BY n"));
  st.Bind(1, id);
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.emplace_back(st.Text(0), st.Text(1));
  }
}

Result<MemoryId> MaxMemoryId(Db& db) {
  MNEMO_ASSIGN_OR_RETURN(int64_t a, ScalarInt(db, "SELECT max(id) FROM memories"));
  MNEMO_ASSIGN_OR_RETURN(int64_t b, ScalarInt(db, "SELECT max(memory_id) FROM history"));
  MNEMO_ASSIGN_OR_RETURN(
      int64_t c,
      ScalarInt(db, "SELECT CAST(value AS INTEGER) FROM space_meta WHERE key='erased_ids_upto'"));
  return std::max({a, b, c});
}

Status NoteErasedIds(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(MemoryId known, MaxMemoryId(db));
  return SetMeta(db, "erased_ids_upto", std::to_string(std::max(id, known)));
}

Result<SqlWhere> BuildFilter(const Filter& f) {
  SqlWhere w;
  if (f.as_of) {
    // Known then: created by T and not retired before T (retired memories included).
    w.sql += " AND m.created_at<=? AND (m.expired_at IS NULL OR m.expired_at>?)";
    w.args.emplace_back(*f.as_of);
    w.args.emplace_back(*f.as_of);
  } else if (f.valid_at && !f.include_retired) {
    // Current knowledge of the past: superseded memories (validity closed) count.
    w.sql += " AND (m.state=" SQL_ACTIVE " OR m.valid_to IS NOT NULL)";
  } else if (!f.include_retired) {
    w.sql += " AND m.state=" SQL_ACTIVE;
  }
  if (!f.include_archived) w.sql += " AND m.tier<>" SQL_ARCHIVED;
  if (f.quarantined == QuarantineFilter::kExclude) w.sql += " AND m.quarantine IS NULL";
  if (f.quarantined == QuarantineFilter::kOnly) w.sql += " AND m.quarantine IS NOT NULL";
  if (f.labels != 0) {
    w.sql += " AND (m.labels & ?)<>0";
    w.args.emplace_back(static_cast<int64_t>(f.labels));
  }
  if (f.exclude_labels != 0) {
    w.sql += " AND (m.labels & ?)=0";
    w.args.emplace_back(static_cast<int64_t>(f.exclude_labels));
  }
  if (f.valid_at) {
    w.sql +=
        " AND (m.valid_from IS NULL OR m.valid_from<=?) AND (m.valid_to IS NULL OR m.valid_to>?)";
    w.args.emplace_back(*f.valid_at);
    w.args.emplace_back(*f.valid_at);
  }
  if (!f.user_id.empty()) {
    w.sql += " AND m.user_id=?";
    w.args.emplace_back(f.user_id);
  }
  if (!f.agent_id.empty()) {
    w.sql += " AND m.agent_id=?";
    w.args.emplace_back(f.agent_id);
  }
  if (!f.session_id.empty()) {
    w.sql += " AND m.session_id=?";
    w.args.emplace_back(f.session_id);
  }
  if (!f.kinds.empty()) {
    w.sql += " AND m.kind IN (" + Placeholders(f.kinds.size()) + ")";
    for (Kind k : f.kinds) w.args.emplace_back(static_cast<int64_t>(k));
  }
  if (f.time_from) {
    w.sql += " AND m.event_time>=?";
    w.args.emplace_back(*f.time_from);
  }
  if (f.time_to) {
    w.sql += " AND m.event_time<?";
    w.args.emplace_back(*f.time_to);
  }
  for (const auto& tag : f.tags) {
    w.sql += " AND m.id IN (SELECT memory_id FROM tags WHERE tag=?)";
    w.args.emplace_back(tag);
  }
  for (const auto& [key, value_json] : f.meta_equals) {
    // json_extract of both sides gives SQL values of the same affinity (text, integer,
    // real, 0/1 for booleans, minified JSON for containers).
    w.sql += " AND json_extract(coalesce(m.metadata,'{}'), ?) IS json_extract(?, '$')";
    w.args.emplace_back(MetadataPath(key));
    w.args.emplace_back(value_json);
  }
  if (!f.expression.empty()) {
    // One search builds its filter several times (candidates, passing ids, rows): the
    // last expression compiled on this thread is kept, keyed by its exact text.
    thread_local std::string last_expression;
    thread_local SqlWhere last_sql;
    if (f.expression != last_expression) {
      MNEMO_ASSIGN_OR_RETURN(FilterExpression e, FilterExpression::Parse(f.expression));
      SqlWhere compiled;
      e.AppendSql(&compiled);
      last_sql = std::move(compiled);
      last_expression = f.expression;
    }
    w.sql += last_sql.sql;
    w.args.insert(w.args.end(), last_sql.args.begin(), last_sql.args.end());
    w.cacheable = w.cacheable && last_sql.cacheable;
  }
  return w;
}

void BindAll(Stmt& st, const std::vector<SqlArg>& args, int first_index) {
  int i = first_index;
  for (const auto& a : args) {
    std::visit([&](const auto& v) { st.Bind(i, v); }, a);
    ++i;
  }
}

Result<std::vector<Memory>> ListMemories(Db& db, const Filter& f, MemoryId cursor_id,
                                         bool descending, int limit) {
  MNEMO_ASSIGN_OR_RETURN(SqlWhere w, BuildFilter(f));
  std::string sql = std::string("SELECT ") + kColumns + " FROM memories m WHERE 1" + w.sql;
  if (cursor_id != 0) sql += descending ? " AND m.id<?" : " AND m.id>?";
  sql += descending ? " ORDER BY m.id DESC LIMIT ?" : " ORDER BY m.id LIMIT ?";
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(sql, w.cacheable));
  BindAll(st, w.args, 1);
  int next = static_cast<int>(w.args.size()) + 1;
  if (cursor_id != 0) st.Bind(next++, cursor_id);
  st.Bind(next, static_cast<int64_t>(limit));
  std::vector<Memory> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadMemoryRow(st));
  }
  return out;
}

Result<std::vector<MemoryId>> MatchingIds(Db& db, const Filter& f, size_t limit) {
  MNEMO_ASSIGN_OR_RETURN(SqlWhere w, BuildFilter(f));
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT m.id FROM memories m WHERE 1" + w.sql + " LIMIT ?", w.cacheable));
  BindAll(st, w.args, 1);
  st.Bind(static_cast<int>(w.args.size()) + 1, static_cast<int64_t>(limit));
  std::vector<MemoryId> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(st.Int(0));
  }
  return out;
}

namespace {
// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`: one cached statement
// serves every count.
std::string IdList(const std::vector<MemoryId>& ids) {
  std::string list = "[";
  for (MemoryId id : ids) {
    if (list.size() > 1) list += ',';
    list += std::to_string(id);
  }
  list += ']';
  return list;
}
}  // namespace

Result<std::unordered_set<MemoryId>> PassingIds(Db& db, const std::vector<MemoryId>& ids,
                                                const Filter& f) {
  std::unordered_set<MemoryId> out;
  if (ids.empty()) return out;
  MNEMO_ASSIGN_OR_RETURN(SqlWhere w, BuildFilter(f));
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare(
          "SELECT m.id FROM memories m WHERE m.id IN (SELECT value FROM json_each(?))" + w.sql,
          w.cacheable));
  st.Bind(1, IdList(ids));
  BindAll(st, w.args, 2);
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.insert(st.Int(0));
  }
  return out;
}

Status ForEachLabelInput(
    Db& db,
    const std::function<Status(MemoryId, std::string_view, const std::vector<MemoryId>&)>& fn) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare("SELECT id, text, sources FROM memories ORDER BY id", false));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    MNEMO_RETURN_IF_ERROR(fn(st.Int(0), st.TextView(1), TextToList<MemoryId>(st.TextView(2))));
  }
}

Status SetLabels(Db& db, MemoryId id, LabelSet labels) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("UPDATE memories SET labels=? WHERE id=?"));
  MNEMO_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(labels)).Bind(2, id).Run());
  return LogIndexChange(db, id, IndexOp::kRow).status();
}

Result<std::unordered_set<MemoryId>> IdsWithSecrets(Db& db) {
  std::unordered_set<MemoryId> out;
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT DISTINCT memory_id FROM secrets", false));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.insert(st.Int(0));
  }
}

Result<LabelSet> LabelsOf(Db& db, const std::vector<MemoryId>& ids) {
  LabelSet out = 0;
  if (ids.empty()) return out;
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare("SELECT labels FROM memories WHERE id IN (SELECT value FROM json_each(?)) "
                 "AND labels<>0"));
  st.Bind(1, IdList(ids));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out |= static_cast<LabelSet>(st.Int(0));
  }
  return out;
}

Result<std::unordered_map<MemoryId, std::string>> SessionsOf(Db& db,
                                                             const std::vector<MemoryId>& ids) {
  std::unordered_map<MemoryId, std::string> out;
  if (ids.empty()) return out;
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT id, session_id FROM memories WHERE id IN "
                                             "(SELECT value FROM json_each(?)) AND "
                                             "session_id<>''"));
  st.Bind(1, IdList(ids));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace(st.Int(0), st.Text(1));
  }
  return out;
}

Result<std::vector<Memory>> FetchMatching(Db& db, const std::vector<MemoryId>& ids,
                                          const Filter& f) {
  std::vector<Memory> out;
  if (ids.empty()) return out;
  MNEMO_ASSIGN_OR_RETURN(SqlWhere w, BuildFilter(f));
  // Chunks keep the statement under SQLite's bound-parameter limit.
  constexpr size_t kChunk = 500;
  for (size_t start = 0; start < ids.size(); start += kChunk) {
    const size_t n = std::min(kChunk, ids.size() - start);
    const size_t slots = InListSize(n, kChunk);
    std::string sql = std::string("SELECT ") + kColumns + " FROM memories m WHERE m.id IN (" +
                      Placeholders(slots) + ")" + w.sql;
    MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(sql, w.cacheable));
    for (size_t i = 0; i < n; ++i) st.Bind(static_cast<int>(i) + 1, ids[start + i]);
    BindAll(st, w.args, static_cast<int>(slots) + 1);
    for (;;) {
      MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(ReadMemoryRow(st));
    }
  }
  return out;
}

bool IndexEvaluates(const Filter& f) {
  return f.tags.empty() && f.meta_equals.empty() && f.expression.empty() && !f.as_of && !f.valid_at;
}

Status AppendHistory(Db& db, const HistoryEntry& h) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare("INSERT INTO history(memory_id, version, op, before, actor, "
                                    "time, reason) VALUES(?,?,?,?,?,?,?)"));
  st.Bind(1, h.memory_id).Bind(2, h.version).Bind(3, static_cast<int64_t>(h.op));
  if (h.before.empty()) {
    st.BindNull(4);
  } else {
    st.Bind(4, h.before);
  }
  return st.Bind(5, h.actor).Bind(6, h.time).Bind(7, h.reason).Run();
}

Result<std::vector<HistoryEntry>> ReadHistory(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT memory_id, version, op, before, actor, time, "
                                             "reason FROM history WHERE memory_id=? ORDER BY seq"));
  st.Bind(1, id);
  std::vector<HistoryEntry> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    HistoryEntry h;
    h.memory_id = st.Int(0);
    h.version = st.Int(1);
    h.op = static_cast<HistoryOp>(st.Int(2));
    h.before = st.Text(3);
    h.actor = st.Text(4);
    h.time = st.Int(5);
    h.reason = st.Text(6);
    out.push_back(std::move(h));
  }
  return out;
}

Status ScrubHistory(Db& db, MemoryId id) {
  // Reasons may quote the content too (the pipeline's consolidation reasons do), on the
  // memory's own entries and on entries that name it ("superseded by memory ID: ...").
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("UPDATE history SET before=NULL, reason='' WHERE memory_id=?1 OR "
                          "instr(reason, 'memory ' || ?1) > 0"));
  st.Bind(1, id);
  return st.Run();
}

Status DeleteHistory(Db& db, MemoryId id) {
  return RunOne(db, "DELETE FROM history WHERE memory_id=?", id);
}

Result<bool> HasHistory(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT 1 FROM history WHERE memory_id=? LIMIT 1"));
  st.Bind(1, id);
  return st.Step();
}

Status InsertLink(Db& db, const Link& l) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("INSERT OR REPLACE INTO links(from_id, to_id, type, "
                                             "weight) VALUES(?,?,?,?)"));
  MNEMO_RETURN_IF_ERROR(st.Bind(1, l.from)
                            .Bind(2, l.to)
                            .Bind(3, static_cast<int64_t>(l.type))
                            .Bind(4, l.weight)
                            .Run());
  if (l.type == LinkType::kNext) db.journal().next_links.emplace_back(l.from, l.to);
  return Status::Ok();
}

Result<std::vector<Link>> ReadLinks(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT from_id, to_id, type, weight FROM links WHERE from_id=?1 "
                          "UNION ALL SELECT from_id, to_id, type, weight FROM links WHERE to_id=?1 "
                          "AND from_id<>?1 ORDER BY 1, 2"));
  st.Bind(1, id);
  std::vector<Link> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(Link{st.Int(0), st.Int(1), static_cast<LinkType>(st.Int(2)), st.Double(3)});
  }
  return out;
}

Result<std::vector<Link>> LinksTouching(Db& db, const std::vector<MemoryId>& ids, LinkType type) {
  std::vector<Link> out;
  constexpr size_t kChunk = 400;
  for (size_t start = 0; start < ids.size(); start += kChunk) {
    const size_t n = std::min(kChunk, ids.size() - start);
    // Numbered parameters so both IN lists bind the same values: ?2 .. ?(slots+1).
    std::string in;
    const size_t slots = InListSize(n, kChunk);
    for (size_t i = 0; i < slots; ++i) in += (i ? ",?" : "?") + std::to_string(i + 2);
    MNEMO_ASSIGN_OR_RETURN(
        Stmt st,
        db.Prepare("SELECT from_id, to_id, weight FROM links WHERE type=?1 AND from_id IN (" + in +
                   ") UNION SELECT from_id, to_id, weight FROM links WHERE type=?1 "
                   "AND to_id IN (" +
                   in + ")"));
    st.Bind(1, static_cast<int64_t>(type));
    for (size_t i = 0; i < n; ++i) st.Bind(static_cast<int>(i) + 2, ids[start + i]);
    for (;;) {
      MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(Link{st.Int(0), st.Int(1), type, st.Double(2)});
    }
  }
  return out;
}

Result<std::optional<MemoryId>> LastInSession(Db& db, const std::string& user,
                                              const std::string& session, MemoryId before) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT id FROM memories WHERE session_id=? AND "
                          "session_id<>'' AND user_id=? AND kind=" SQL_EPISODE " AND id<? "
                          "ORDER BY id DESC LIMIT 1"));
  st.Bind(1, session).Bind(2, user).Bind(3, before);
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<MemoryId>();
  return std::optional<MemoryId>(st.Int(0));
}

Result<int64_t> LogIndexChange(Db& db, MemoryId id, IndexOp op) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("INSERT INTO index_log(id, op) VALUES(?,?)"));
  MNEMO_RETURN_IF_ERROR(st.Bind(1, id).Bind(2, static_cast<int64_t>(op)).Run());
  const auto seq = static_cast<int64_t>(sqlite3_last_insert_rowid(db.raw()));
  db.journal().last_seq = std::max(db.journal().last_seq, seq);
  return seq;
}

Result<std::vector<IndexLogEntry>> ReadIndexLog(Db& db, int64_t after_seq, bool with_rows) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare(with_rows ? "SELECT seq, id, op FROM index_log WHERE seq>? ORDER BY seq"
                           : "SELECT seq, id, op FROM index_log WHERE seq>? AND op<>" SQL_OP_ROW " "
                             "ORDER BY seq"));
  st.Bind(1, after_seq);
  std::vector<IndexLogEntry> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(IndexLogEntry{st.Int(0), st.Int(1), static_cast<IndexOp>(st.Int(2))});
  }
  return out;
}

Result<int64_t> MaxIndexSeq(Db& db) {
  return ScalarInt(db, "SELECT seq FROM sqlite_sequence WHERE name='index_log'");
}

Status TruncateIndexLog(Db& db, int64_t up_to_seq) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("DELETE FROM index_log WHERE seq<=?"));
  return st.Bind(1, up_to_seq).Run();
}

Result<int64_t> TruncateIndexLogSome(Db& db, int64_t up_to_seq, int64_t max_rows) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("DELETE FROM index_log WHERE seq IN (SELECT seq FROM "
                                             "index_log WHERE seq<=? ORDER BY seq LIMIT ?)"));
  MNEMO_RETURN_IF_ERROR(st.Bind(1, up_to_seq).Bind(2, max_rows).Run());
  return db.Changes();
}

Status ForEachMemory(Db& db,
                     const std::function<Status(const Memory&, std::string_view vector)>& fn) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(std::string("SELECT ") + kColumns +
                                                 ", v.vec FROM memories m LEFT JOIN vectors v ON "
                                                 "v.id = m.id ORDER BY m.id",
                                             false));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    MNEMO_RETURN_IF_ERROR(fn(ReadMemoryRow(st), st.Blob(kMemoryColumnCount)));
  }
}

Status ForEachHistory(Db& db, const std::function<Status(const HistoryEntry&)>& fn) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT memory_id, version, op, before, actor, time, "
                                             "reason FROM history ORDER BY seq",
                                             false));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    MNEMO_RETURN_IF_ERROR(fn(HistoryEntry{st.Int(0), st.Int(1), static_cast<HistoryOp>(st.Int(2)),
                                          st.Text(3), "", st.Text(4), st.Int(5), st.Text(6)}));
  }
}

Status ForEachLink(Db& db, const std::function<Status(const Link&)>& fn) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT from_id, to_id, type, weight FROM links "
                                             "ORDER BY from_id, type, to_id",
                                             false));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    MNEMO_RETURN_IF_ERROR(
        fn(Link{st.Int(0), st.Int(1), static_cast<LinkType>(st.Int(2)), st.Double(3)}));
  }
}

Status SetMeta(Db& db, const std::string& key, const std::string& value) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare("INSERT OR REPLACE INTO space_meta(key, value) VALUES(?,?)"));
  return st.Bind(1, key).Bind(2, value).Run();
}

Result<std::optional<std::string>> GetMeta(Db& db, const std::string& key) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT value FROM space_meta WHERE key=?"));
  st.Bind(1, key);
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.Text(0));
}

Result<int64_t> CountOf(Db& db, Counted what) {
  switch (what) {
    case Counted::kMemories:
      return ScalarInt(db, "SELECT count(*) FROM memories");
    case Counted::kActive:
      return ScalarInt(db, "SELECT count(*) FROM memories WHERE state=" SQL_ACTIVE);
    case Counted::kRetired:
      return ScalarInt(db, "SELECT count(*) FROM memories WHERE state<>" SQL_ACTIVE);
    case Counted::kUsers:
      return ScalarInt(db, "SELECT count(*) FROM (SELECT DISTINCT user_id FROM memories)");
    case Counted::kSessions:
      return ScalarInt(db,
                       "SELECT count(*) FROM (SELECT DISTINCT user_id, session_id FROM "
                       "memories WHERE session_id<>'')");
    case Counted::kHistory:
      return ScalarInt(db, "SELECT count(*) FROM history");
    case Counted::kLinks:
      return ScalarInt(db, "SELECT count(*) FROM links");
    case Counted::kNextVectors:
      return ScalarInt(db, "SELECT count(*) FROM vectors_next");
  }
  return Status::Internal("unknown count");
}

Result<std::vector<MemoryId>> MemoryIdsBetween(Db& db, MemoryId first, MemoryId last) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT id FROM memories WHERE id BETWEEN ? AND ? ORDER BY id", false));
  st.Bind(1, first).Bind(2, last);
  return st.Ints();
}

Result<std::vector<MemoryId>> MemoryIdsOfUser(Db& db, const std::string& user) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare("SELECT id FROM memories WHERE user_id=? ORDER BY id", false));
  st.Bind(1, user);
  return st.Ints();
}

Status ForEachLinkOf(Db& db, LinkType type, const std::function<void(MemoryId, MemoryId)>& fn) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare("SELECT from_id, to_id FROM links WHERE type=?", false));
  st.Bind(1, static_cast<int64_t>(type));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    fn(st.Int(0), st.Int(1));
  }
}

Status DeleteMeta(Db& db, const std::string& key) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("DELETE FROM space_meta WHERE key=?"));
  return st.Bind(1, key).Run();
}

Result<std::vector<std::pair<std::string, int64_t>>> CountByUser(Db& db) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT user_id, count(*) FROM memories "
                                             "GROUP BY user_id"));
  std::vector<std::pair<std::string, int64_t>> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace_back(st.Text(0), st.Int(1));
  }
  return out;
}

Result<std::vector<UserInfo>> ListUsers(Db& db, const std::string& after, int limit) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT user_id, count(*), min(coalesce(event_time, created_at)), "
                          "max(coalesce(event_time, created_at)) FROM memories "
                          "WHERE user_id>? AND state=" SQL_ACTIVE
                          " GROUP BY user_id ORDER BY user_id LIMIT ?"));
  st.Bind(1, after).Bind(2, limit);
  std::vector<UserInfo> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back({st.Text(0), st.Int(1), st.Int(2), st.Int(3)});
  }
  return out;
}

Result<std::vector<std::pair<int, int64_t>>> CountActiveBy(Db& db, ActiveGroup group) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare(group == ActiveGroup::kKind
                              ? "SELECT kind, count(*) FROM memories WHERE state=" SQL_ACTIVE
                                " GROUP BY kind"
                              : "SELECT tier, count(*) FROM memories WHERE state=" SQL_ACTIVE
                                " GROUP BY tier"));
  std::vector<std::pair<int, int64_t>> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace_back(static_cast<int>(st.Int(0)), st.Int(1));
  }
  return out;
}

}  // namespace mnemo::store
