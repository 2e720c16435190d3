// The SQL of vectors: the embedders a space has used, each memory's vector (table
// vectors), and during a re-embed the target embedder's vectors (table vectors_next).
//
// Like memory_store.h, these functions do not open transactions, and each uses the Db it
// is given (see store/sqlite.h for thread safety). A vector's change is logged in
// index_log by the engine (LogIndexChange), not here.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/memory.h"
#include "store/sqlite.h"

namespace mnemo::store {

// The row id of embedder `name`, recording it at first use; Conflict when it is recorded
// with another dimension.
Result<int64_t> EmbedderRowId(Db& db, const std::string& name, int dimension);
// The space's embedder (space_meta "embedder") and its dimension.
Result<std::optional<std::pair<std::string, int>>> SpaceEmbedder(Db& db);
Status PutVector(Db& db, MemoryId id, int64_t embedder_row, std::string_view blob);
Result<std::optional<std::string>> GetVector(Db& db, MemoryId id);
Status DeleteVector(Db& db, MemoryId id);
// The memory's vector from the embedder a re-embed moves to (table vectors_next).
Status PutNextVector(Db& db, MemoryId id, int64_t embedder_row, std::string_view blob);
Status DeleteNextVector(Db& db, MemoryId id);
// Whether the memory has a vector in `vectors` (or, with `next`, in `vectors_next`).
Result<bool> HasVector(Db& db, MemoryId id, bool next);

// The memories without a vector, ascending: active ones without one in `vectors`, or
// (with `next`) any memory without one in `vectors_next`.
Result<std::vector<MemoryId>> IdsWithoutVector(Db& db, bool next);
// Calls fn(id, blob) for every vector of `vectors` (or `vectors_next`), in id order; the
// blob is valid during the call only.
Status ForEachVector(Db& db, bool next, const std::function<void(MemoryId, std::string_view)>& fn);
// Empties vectors_next (a re-embed cancelled or restarted).
Status ClearNextVectors(Db& db);
// Completes a re-embed: vectors_next's rows replace those of vectors, and vectors_next is
// left empty.
Status PromoteNextVectors(Db& db);

}  // namespace mnemo::store
