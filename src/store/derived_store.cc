#include "store/derived_store.h"

#include "store/sql_values.h"
#include "util/json_codec.h"

namespace mnemo::store {
namespace {

// "kind<>0 AND state=0" lets SQLite use the partial indexes (schema v5); the kind list
// leaves summaries out.
constexpr const char* kDerivedActive =
    "kind<>" SQL_EPISODE " AND state=" SQL_ACTIVE " AND kind IN (" SQL_FACT_KINDS ")";

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The entities column (a JSON array of strings; NULL when there are none) of the current
// row. NULL is checked first: parsing "" fails, and a failed parse is costly (it throws
// internally to find the error's position).
std::vector<std::string> EntitiesAt(Stmt& st, int col) {
  std::vector<std::string> out;
  if (st.IsNull(col)) return out;
  auto parsed = util::ParseStoredJson(st.TextView(col));
  if (parsed.ok() && parsed->is_array()) {
    for (const auto& x : *parsed) {
      if (x.is_string()) out.push_back(x.get<std::string>());
    }
  }
  return out;
}

// The columns consolidation compares, as LightRows reads them.
constexpr const char* kLightColumns =
    "id, kind, text, entities, metadata, valid_from, event_time, created_at";

Result<std::vector<Memory>> LightRows(Stmt& st) {
  std::vector<Memory> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    Memory m;
    m.id = st.Int(0);
    m.kind = static_cast<Kind>(st.Int(1));
    m.text = st.Text(2);
    m.entities = EntitiesAt(st, 3);
    m.metadata = st.IsNull(4) ? "{}" : st.Text(4);
    m.valid_from = st.OptInt(5);
    m.event_time = st.OptInt(6);
    m.created_at = st.Int(7);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Result<std::vector<MemoryId>> DerivedBySlot(Db& db, const std::string& user,
                                            const std::string& slot, int limit) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare(std::string("SELECT id FROM memories WHERE user_id=? AND "
                                                "json_extract(metadata, '$.slot')=? AND ") +
                                    kDerivedActive + " LIMIT ?"));
  st.Bind(1, user).Bind(2, slot).Bind(3, limit);
  return st.Ints();
}

Result<std::vector<MemoryId>> DerivedByText(Db& db, const std::string& user,
                                            const std::string& text, int limit) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(std::string("SELECT id FROM memories WHERE "
                                                         "user_id=? AND text=? AND ") +
                                             kDerivedActive + " LIMIT ?"));
  st.Bind(1, user).Bind(2, text).Bind(3, limit);
  return st.Ints();
}

Result<std::vector<std::pair<MemoryId, std::vector<std::string>>>> DerivedByEntity(
    Db& db, const std::string& user, const std::string& entity, MemoryId except, int limit) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT m.id, m.entities FROM memory_entities e JOIN memories m ON "
                          "m.id=e.memory_id WHERE e.user_id=? AND e.entity=? AND e.memory_id<>? "
                          "AND m.kind IN (" SQL_FACT_KINDS ") AND m.state=" SQL_ACTIVE
                          " ORDER BY e.memory_id DESC "
                          "LIMIT ?"));
  st.Bind(1, user).Bind(2, AsciiLower(entity)).Bind(3, except).Bind(4, limit);
  std::vector<std::pair<MemoryId, std::vector<std::string>>> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace_back(st.Int(0), EntitiesAt(st, 1));
  }
  return out;
}

Result<std::vector<Memory>> DerivedWithSlots(Db& db, const std::string& user, int limit) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(std::string("SELECT ") + kLightColumns +
                                             " FROM memories WHERE user_id=? AND "
                                             "json_extract(metadata, '$.slot')<>'' AND " +
                                             kDerivedActive + " ORDER BY id DESC LIMIT ?"));
  st.Bind(1, user).Bind(2, limit);
  return LightRows(st);
}

Result<std::vector<Memory>> ActiveDerivedLight(Db& db, const std::vector<MemoryId>& ids) {
  if (ids.empty()) return std::vector<Memory>();
  std::string list = "[";
  for (MemoryId id : ids) {
    if (list.size() > 1) list += ',';
    list += std::to_string(id);
  }
  list += ']';
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare(std::string("SELECT ") + kLightColumns +
                                    " FROM memories WHERE id IN (SELECT value FROM json_each(?)) "
                                    "AND kind IN (" SQL_FACT_KINDS ") AND state=" SQL_ACTIVE));
  st.Bind(1, list);
  return LightRows(st);
}

}  // namespace mnemo::store
