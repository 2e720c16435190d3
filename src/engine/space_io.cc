// Space::Export and Space::Import: the lossless JSONL format (docs/storage-format.md).
//
//   {"format":"mnemo-export","version":1,"space":...,"embedder":...,"dimension":...,...}
//   {"type":"memory","memory":{...},"vector":"<base64 of the quantized vector>"|null}
//   {"type":"history","entry":{...}}
//   {"type":"link","link":{...}}
//   {"type":"end","memories":N,"history":H,"links":L,"crc32":C}
//
// C is the zlib CRC-32 of every byte before the end line, so truncation and corruption
// are detected before anything is written.
#include <zlib.h>

#include <istream>
#include <ostream>
#include <unordered_set>

#include "engine/space.h"
#include "index/quantize.h"
#include "store/memory_store.h"
#include "store/vector_store.h"
#include "util/base64.h"
#include "util/json_codec.h"
#include "util/time_util.h"

namespace mnemo::engine {
namespace {

constexpr const char* kFormat = "mnemo-export";
constexpr int kFormatVersion = 1;
constexpr size_t kMaxLineBytes = 64 * 1024 * 1024;

class CrcWriter {
 public:
  explicit CrcWriter(std::ostream& out) : out_(out) {}
  template <typename J>
  void Line(const J& j) {
    std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    s += '\n';
    crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(s.data()), s.size());
    out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  }
  uLong crc() const { return crc_; }
  bool good() const { return out_.good(); }

 private:
  std::ostream& out_;
  uLong crc_ = crc32_z(0L, Z_NULL, 0);
};

}  // namespace

Status Space::Export(std::ostream& out, const std::string& user) {
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  store::Db& db = *reader;
  // One read transaction: the export is a consistent snapshot even while writes go on.
  store::ReadSnapshot snapshot(&db);
  MNEMO_RETURN_IF_ERROR(snapshot.Begin());
  const auto vectors = CurrentVectors();  // the embedder of table `vectors`
  CrcWriter w(out);
  // An ordered object: the file starts with its magic, {"format":"mnemo-export".
  nlohmann::ordered_json header{{"format", kFormat},
                                {"version", kFormatVersion},
                                {"space", name_},
                                {"embedder", vectors->id},
                                {"dimension", vectors->dimension},
                                {"exported_at", util::FormatIso8601(Now())}};
  if (!user.empty()) header["user"] = user;
  w.Line(header);
  int64_t memories = 0, history = 0, links = 0;
  std::unordered_set<MemoryId> ids;  // the user's, for a user's export
  MNEMO_RETURN_IF_ERROR(store::ForEachMemory(db, [&](const Memory& m, std::string_view vec) {
    if (!user.empty()) {
      if (m.user_id != user) return Status::Ok();
      ids.insert(m.id);
    }
    w.Line(util::Json{
        {"type", "memory"},
        {"memory", util::MemoryToJson(m)},
        {"vector", vec.empty() ? util::Json(nullptr) : util::Json(util::Base64Encode(vec))}});
    ++memories;
    return Status::Ok();
  }));
  MNEMO_RETURN_IF_ERROR(store::ForEachHistory(db, [&](const HistoryEntry& h) {
    if (!user.empty() && !ids.contains(h.memory_id)) return Status::Ok();
    w.Line(util::Json{{"type", "history"}, {"entry", util::HistoryToJson(h)}});
    ++history;
    return Status::Ok();
  }));
  MNEMO_RETURN_IF_ERROR(store::ForEachLink(db, [&](const Link& l) {
    if (!user.empty() && !(ids.contains(l.from) && ids.contains(l.to))) return Status::Ok();
    w.Line(util::Json{{"type", "link"}, {"link", util::LinkToJson(l)}});
    ++links;
    return Status::Ok();
  }));
  const uLong crc = w.crc();
  w.Line(nlohmann::ordered_json{{"type", "end"},
                                {"memories", memories},
                                {"history", history},
                                {"links", links},
                                {"crc32", crc}});
  out.flush();
  if (!w.good()) return Status::IOError("writing the export failed");
  return Status::Ok();
}

Result<ImportResult> Space::Import(std::istream& in) {
  struct Item {
    Memory memory;
    std::string blob;
  };
  std::vector<Item> items;
  std::vector<HistoryEntry> history;
  std::vector<Link> links;
  std::string header_embedder;
  uLong crc = crc32_z(0L, Z_NULL, 0);
  bool ended = false;
  std::string line;
  size_t line_no = 0;
  const auto parse_vectors = CurrentVectors();
  const int dim = parse_vectors->dimension;
  while (std::getline(in, line)) {
    ++line_no;
    auto at = [&](const Status& s) { return s.WithContext("line " + std::to_string(line_no)); };
    if (ended) return at(Status::InvalidArgument("data after the end record"));
    if (line.size() > kMaxLineBytes) return at(Status::TooLarge("line too long"));
    auto parsed = util::ParseJson(line);
    if (!parsed.ok()) return at(parsed.status());
    util::Json j = std::move(parsed).value();
    if (!j.is_object()) return at(Status::InvalidArgument("expected a JSON object"));
    if (line_no == 1) {
      auto format = util::GetString(j, "format", true);
      if (!format.ok() || *format != kFormat) {
        return at(
            Status::InvalidArgument("not a mnemo export (the first line must have "
                                    "\"format\":\"mnemo-export\")"));
      }
      auto v = j.find("version");
      if (v == j.end() || !v->is_number_integer())
        return at(Status::InvalidArgument("missing version"));
      if (v->get<int64_t>() > kFormatVersion) {
        return at(Status::FailedPrecondition(
            "export format version " + std::to_string(v->get<int64_t>()) +
            " is newer than this mnemo supports (" + std::to_string(kFormatVersion) + ")"));
      }
      MNEMO_ASSIGN_OR_RETURN(header_embedder, util::GetString(j, "embedder", false));
    } else {
      MNEMO_ASSIGN_OR_RETURN(std::string type, util::GetString(j, "type", true));
      if (type == "memory") {
        auto it = j.find("memory");
        if (it == j.end()) return at(Status::InvalidArgument("missing \"memory\""));
        auto m = util::MemoryFromJson(*it);
        if (!m.ok()) return at(m.status());
        Status valid = ValidateText(m->text, "text");
        if (!valid.ok()) return at(valid);
        // The labels the rules find stay, whatever the export says (an export made before
        // labels has none).
        m->labels = LabelsFor(m->labels, m->text, m->text.find("[secret ") != std::string::npos);
        if (m->id <= 0 || m->id >= (int64_t{1} << 53))
          return at(Status::InvalidArgument("id out of range"));
        Item item{std::move(m).value(), ""};
        auto v = j.find("vector");
        if (v != j.end() && v->is_string() && header_embedder == parse_vectors->id) {
          auto blob = util::Base64Decode(v->get<std::string>());
          if (!blob.ok()) return at(blob.status().WithContext("vector"));
          if (blob->size() != index::QuantizedSize(dim)) {
            return at(Status::InvalidArgument("vector has the wrong size for dimension " +
                                              std::to_string(dim)));
          }
          item.blob = std::move(blob).value();
        }
        items.push_back(std::move(item));
      } else if (type == "history") {
        auto it = j.find("entry");
        auto h = it == j.end() ? Result<HistoryEntry>(Status::InvalidArgument("missing \"entry\""))
                               : util::HistoryFromJson(*it);
        if (!h.ok()) return at(h.status());
        history.push_back(std::move(h).value());
      } else if (type == "link") {
        auto it = j.find("link");
        auto l = it == j.end() ? Result<Link>(Status::InvalidArgument("missing \"link\""))
                               : util::LinkFromJson(*it);
        if (!l.ok()) return at(l.status());
        links.push_back(*l);
      } else if (type == "end") {
        auto num = [&](const char* key) -> int64_t {
          auto it = j.find(key);
          return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
        };
        if (num("crc32") != static_cast<int64_t>(crc)) {
          return at(Status::InvalidArgument("checksum mismatch: the export file is corrupted"));
        }
        if (num("memories") != static_cast<int64_t>(items.size()) ||
            num("history") != static_cast<int64_t>(history.size()) ||
            num("links") != static_cast<int64_t>(links.size())) {
          return at(Status::InvalidArgument(
              "record counts do not match the end record: the export file is corrupted"));
        }
        ended = true;
        continue;
      } else {
        return at(Status::InvalidArgument("unknown record type \"" + type + "\""));
      }
    }
    line += '\n';
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(line.data()), line.size());
  }
  if (line_no == 0) return Status::InvalidArgument("the export is empty");
  if (!ended) return Status::InvalidArgument("the export file is truncated: it has no end record");

  // Re-embed what came without a usable vector (another embedder, or none).
  std::vector<std::string_view> texts;
  std::vector<size_t> need;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].blob.empty()) {
      texts.push_back(items[i].memory.text);
      need.push_back(i);
    }
  }
  // A provider failure leaves those vectors to embed jobs.
  WriteVectors vecs;
  if (!texts.empty()) {
    MNEMO_ASSIGN_OR_RETURN(vecs, EmbedForWrite(texts));
  }
  std::vector<size_t> embedded_at(items.size(), 0);  // item -> its index among `texts`
  for (size_t k = 0; k < need.size(); ++k) embedded_at[need[k]] = k;

  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  const auto vectors = CurrentVectors();
  store::Db& db = txn.db();
  std::vector<MemoryId> unembedded;
  std::vector<IndexChange>& changes = *txn.vector_changes();
  MemoryId max_id = last_id_;
  for (auto& item : items) {
    Status s = store::InsertMemory(db, item.memory);
    if (s.code() == StatusCode::kConflict) {
      return Status::Conflict("memory id " + std::to_string(item.memory.id) +
                              " already exists in space '" + name_ + "'; nothing was imported");
    }
    MNEMO_RETURN_IF_ERROR(s);
    const size_t at = &item - items.data();
    if (!item.blob.empty() && vectors->id == parse_vectors->id) {
      // The export's own vector (a re-embed in progress gives it its new one later).
      MNEMO_RETURN_IF_ERROR(store::PutVector(db, item.memory.id, vectors->row, item.blob));
      MNEMO_ASSIGN_OR_RETURN(int64_t seq,
                             store::LogIndexChange(db, item.memory.id, store::IndexOp::kUpsert));
      changes.push_back(IndexChange{seq, item.memory.id, std::move(item.blob)});
    } else {
      const WriteVectors none;
      MNEMO_ASSIGN_OR_RETURN(
          bool missing, PutVectors(db, *vectors, item.memory.id, item.blob.empty() ? vecs : none,
                                   embedded_at[at], /*replace=*/false, &changes));
      if (missing) unembedded.push_back(item.memory.id);
    }
    max_id = std::max(max_id, item.memory.id);
  }
  for (const auto& h : history) {
    MNEMO_RETURN_IF_ERROR(store::AppendHistory(db, h));
    max_id = std::max(max_id, h.memory_id);
  }
  for (const auto& l : links) MNEMO_RETURN_IF_ERROR(store::InsertLink(db, l));
  if (!unembedded.empty()) {
    MNEMO_RETURN_IF_ERROR(EnqueueEmbed(
        db, unembedded, "",
        vecs.deferred.ok() ? Status::Unavailable("the embedder changed during the import")
                           : vecs.deferred,
        Now()));
  }
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  last_id_ = max_id;
  for (const auto& item : items) {
    if (item.memory.state == State::kActive && item.memory.expires_at) {
      NoteExpiry(*item.memory.expires_at);  // one already past retires on the next read
    }
  }
  if (!unembedded.empty()) WakeJobsAt(Now() + pipeline_->retry_initial_ms);
  for (const auto& item : items) AdjustUserCount(item.memory.user_id, 1);
  return ImportResult{static_cast<int64_t>(items.size()), static_cast<int64_t>(history.size()),
                      static_cast<int64_t>(links.size())};
}

}  // namespace mnemo::engine
