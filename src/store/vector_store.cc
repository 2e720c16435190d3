#include "store/vector_store.h"

#include "store/sql_values.h"

namespace mnemo::store {

Result<int64_t> EmbedderRowId(Db& db, const std::string& name, int dimension) {
  {
    MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT id, dimension FROM embedders WHERE name=?"));
    st.Bind(1, name);
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      if (st.Int(1) != dimension) {
        return Status::Conflict("embedder " + name + " is recorded with dimension " +
                                std::to_string(st.Int(1)) + ", not " + std::to_string(dimension));
      }
      return st.Int(0);
    }
  }
  MNEMO_ASSIGN_OR_RETURN(Stmt ins,
                         db.Prepare("INSERT INTO embedders(name, dimension) VALUES(?,?)"));
  MNEMO_RETURN_IF_ERROR(ins.Bind(1, name).Bind(2, dimension).Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db.raw()));
}

Result<std::optional<std::pair<std::string, int>>> SpaceEmbedder(Db& db) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT e.name, e.dimension FROM space_meta s JOIN "
                                             "embedders e ON e.name = s.value WHERE "
                                             "s.key='embedder'"));
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::pair<std::string, int>>();
  return std::optional<std::pair<std::string, int>>(
      std::pair<std::string, int>(st.Text(0), static_cast<int>(st.Int(1))));
}

Status PutVector(Db& db, MemoryId id, int64_t embedder_row, std::string_view blob) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("INSERT OR REPLACE INTO vectors(id, embedder, vec) "
                                             "VALUES(?,?,?)"));
  return st.Bind(1, id).Bind(2, embedder_row).BindBlob(3, blob).Run();
}

Result<std::optional<std::string>> GetVector(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT vec FROM vectors WHERE id=?"));
  st.Bind(1, id);
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(st.Blob(0)));
}

Status DeleteVector(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("DELETE FROM vectors WHERE id=?"));
  return st.Bind(1, id).Run();
}

Status PutNextVector(Db& db, MemoryId id, int64_t embedder_row, std::string_view blob) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("INSERT OR REPLACE INTO vectors_next(id, embedder, "
                                             "vec) VALUES(?,?,?)"));
  return st.Bind(1, id).Bind(2, embedder_row).BindBlob(3, blob).Run();
}

Status DeleteNextVector(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("DELETE FROM vectors_next WHERE id=?"));
  return st.Bind(1, id).Run();
}

Result<bool> HasVector(Db& db, MemoryId id, bool next) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(next ? "SELECT 1 FROM vectors_next WHERE id=?"
                                                  : "SELECT 1 FROM vectors WHERE id=?"));
  st.Bind(1, id);
  return st.Step();
}

Result<std::vector<MemoryId>> IdsWithoutVector(Db& db, bool next) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare(next ? "SELECT m.id FROM memories m WHERE NOT EXISTS (SELECT 1 FROM "
                        "vectors_next n WHERE n.id = m.id) ORDER BY m.id"
                      : "SELECT m.id FROM memories m WHERE m.state=" SQL_ACTIVE " AND NOT EXISTS "
                        "(SELECT 1 FROM vectors v WHERE v.id = m.id) ORDER BY m.id",
                 false));
  return st.Ints();
}

Status ForEachVector(Db& db, bool next, const std::function<void(MemoryId, std::string_view)>& fn) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(next ? "SELECT id, vec FROM vectors_next ORDER BY id"
                                                  : "SELECT id, vec FROM vectors ORDER BY id",
                                             false));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    fn(st.Int(0), st.Blob(1));
  }
}

Status ClearNextVectors(Db& db) { return db.Exec("DELETE FROM vectors_next"); }

Status PromoteNextVectors(Db& db) {
  MNEMO_RETURN_IF_ERROR(db.Exec("DELETE FROM vectors"));
  MNEMO_RETURN_IF_ERROR(
      db.Exec("INSERT INTO vectors(id, embedder, vec) SELECT id, embedder, vec FROM vectors_next"));
  return db.Exec("DELETE FROM vectors_next");
}

}  // namespace mnemo::store
