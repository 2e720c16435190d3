#include "engine/space.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "index/quantize.h"
#include "store/memory_store.h"
#include "store/schema.h"
#include "store/vector_store.h"
#include "util/base64.h"
#include "util/fs.h"
#include "util/json_codec.h"
#include "util/time_util.h"
#include "util/utf8.h"
#include "write/extract_rules.h"
#include "write/injection.h"
#include "write/secrets.h"
#include "write/sensitivity.h"

namespace mnemo::engine {

namespace {
constexpr size_t kMaxIdBytes = 256;  // user, agent, session ids, role, speaker
constexpr size_t kMaxTags = 64;
constexpr size_t kMaxSources = 64;  // memories one memory says it was derived from
constexpr int kIdShift = 12;        // ids are (ms << 12) + counter: time-ordered, below 2^53

// Stores the secrets MaskSecrets took out of memory `id`'s text (none: clears them).
Status PutSecrets(store::Db& db, MemoryId id, const std::vector<write::HiddenSecret>& secrets) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.reserve(secrets.size());
  for (const auto& s : secrets) rows.emplace_back(s.kind, s.value);
  return store::PutSecrets(db, id, rows);
}

std::string DbPath(const std::string& dir) { return dir + "/space.db"; }
std::string IndexPath(const std::string& dir) { return dir + "/vectors.idx"; }

Status ValidateTags(const std::vector<std::string>& tags, std::string_view what) {
  if (tags.size() > kMaxTags) {
    return Status::TooLarge(std::string(what) + ": at most " + std::to_string(kMaxTags) +
                            " allowed")
        .WithField(std::string(what));
  }
  for (const auto& t : tags) {
    if (t.empty()) {
      return Status::InvalidArgument(std::string(what) + " must not be empty strings")
          .WithField(std::string(what));
    }
    MNEMO_RETURN_IF_ERROR(ValidateShortField(t, what));
  }
  return Status::Ok();
}

Status NotFoundId(MemoryId id, const std::string& space) {
  return Status::NotFound("memory " + std::to_string(id) + " does not exist in space '" + space +
                          "'")
      .WithField("id");
}

std::string MemoryJsonText(const Memory& m) { return util::DumpJson(util::MemoryToJson(m)); }

store::DbOptions DbOptionsOf(const Options& o) {
  store::DbOptions d;
  d.full_sync = o.durability == Durability::kFull;
  d.mmap_bytes = o.sqlite_mmap_bytes;
  d.cache_bytes = o.sqlite_cache_bytes;
  return d;
}

}  // namespace

Status ValidateShortField(std::string_view value, std::string_view what) {
  if (value.size() > kMaxIdBytes) {
    return Status::TooLarge(std::string(what) + " is " + std::to_string(value.size()) +
                            " bytes; the limit is " + std::to_string(kMaxIdBytes))
        .WithField(std::string(what));
  }
  if (auto bad = util::FindInvalidUtf8(value)) {
    return Status::InvalidArgument(std::string(what) + " is not valid UTF-8 (byte " +
                                   std::to_string(*bad) + ")")
        .WithField(std::string(what));
  }
  return Status::Ok();
}

Space::Space(std::string dir, std::string name, const SpaceContext* ctx)
    : dir_(std::move(dir)), name_(std::move(name)), ctx_(ctx) {
  auto it = ctx->options.space_pipeline.find(name_);
  pipeline_ = it != ctx->options.space_pipeline.end() ? &it->second : &ctx->options.pipeline;
  auto lc = ctx->options.space_lifecycle.find(name_);
  lifecycle_ = lc != ctx->options.space_lifecycle.end() ? &lc->second : &ctx->options.lifecycle;
}

Space::~Space() {
  if (pending_recall_count_.load() > 0) {  // a one-shot process's searches reinforce too
    MaintenanceReport unused;
    auto r = FlushRecalls(&unused);
    if (!r.ok()) Log(LogLevel::kWarning, "space '" + name_ + "': " + r.status().ToString());
  }
  Status s = Snapshot(/*min_changes=*/1);
  if (!s.ok()) Log(LogLevel::kWarning, "space '" + name_ + "': " + s.ToString());
}

Space::ReaderLease::~ReaderLease() {
  if (!db_) return;
  std::lock_guard<std::mutex> lock(space_->readers_mu_);
  space_->idle_readers_.push_back(std::move(db_));
}

Result<Space::ReaderLease> Space::Reader() {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!idle_readers_.empty()) {
      auto db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(db));
    }
  }
  MNEMO_ASSIGN_OR_RETURN(auto db, store::Db::Open(DbPath(dir_), store::Db::Mode::kReadOnly,
                                                  DbOptionsOf(ctx_->options)));
  return ReaderLease(this, std::move(db));
}

Result<std::unique_ptr<Space>> Space::Open(const std::string& dir, const std::string& name,
                                           bool create, const SpaceContext* ctx) {
  if (!create && !util::PathExists(DbPath(dir))) {
    return Status::NotFound("space '" + name +
                            "' does not exist (create it with: mnemo space create " + name + ")")
        .WithField("space");
  }
  if (create) MNEMO_RETURN_IF_ERROR(util::CreatePrivateDirs(dir));
  std::unique_ptr<Space> space(new Space(dir, name, ctx));
  store::DbOptions writer_options = DbOptionsOf(ctx->options);
  writer_options.background_checkpoint = true;  // Space::CheckpointWal
  MNEMO_ASSIGN_OR_RETURN(space->writer_,
                         store::Db::Open(DbPath(dir), store::Db::Mode::kReadWrite, writer_options));
  store::Db& db = *space->writer_;
  MNEMO_ASSIGN_OR_RETURN(int found_version, store::Migrate(db));
  const Embedder& emb = *ctx->options.embedder;
  if (found_version == 0) {
    store::Transaction txn(&db);
    MNEMO_RETURN_IF_ERROR(txn.Begin());
    MNEMO_RETURN_IF_ERROR(store::SetMeta(db, "name", name));
    MNEMO_RETURN_IF_ERROR(
        store::SetMeta(db, "created_at", std::to_string(ctx->options.clock->NowMillis())));
    MNEMO_RETURN_IF_ERROR(store::SetMeta(db, "embedder", emb.id()));
    MNEMO_RETURN_IF_ERROR(store::EmbedderRowId(db, emb.id(), emb.dimension()).status());
    MNEMO_RETURN_IF_ERROR(txn.Commit());
  }
  if (found_version > 0 && found_version < 7) MNEMO_RETURN_IF_ERROR(LabelExisting(db));
  MNEMO_RETURN_IF_ERROR(space->SetUpEmbedders());
  MNEMO_ASSIGN_OR_RETURN(space->last_id_, store::MaxMemoryId(db));
  MNEMO_ASSIGN_OR_RETURN(auto counts, store::CountByUser(db));
  for (auto& [user, n] : counts) {
    space->user_counts_[user] = n;
    space->total_count_ += n;
  }
  MNEMO_RETURN_IF_ERROR(space->RefreshNextExpiry(db));
  MNEMO_RETURN_IF_ERROR(space->OpenIndex());
  MNEMO_RETURN_IF_ERROR(space->OpenLexical());
  return space;
}

// Loads the snapshot and replays the index log after it; without a usable snapshot,
// rebuilds the index from the vectors table. Never refuses to open over the index.
Status Space::OpenIndex() {
  auto vectors = std::make_shared<Vectors>(*CurrentVectors());
  auto publish = [&] {
    std::lock_guard<std::mutex> lock(vectors_mu_);
    vectors_ = vectors;
  };
  store::Db& db = *writer_;
  auto loaded = index::VectorIndex::Load(IndexPath(dir_), vectors->id, vectors->dimension);
  if (loaded.ok()) {
    std::shared_ptr<index::VectorIndex> index = std::move(loaded).value();
    MNEMO_ASSIGN_OR_RETURN(auto log, store::ReadIndexLog(db, index->applied_seq()));
    for (const auto& e : log) {
      if (e.op == store::IndexOp::kUpsert) {
        MNEMO_ASSIGN_OR_RETURN(auto blob, store::GetVector(db, e.id));
        if (blob) index->Upsert(e.seq, e.id, std::move(*blob));
      } else {
        index->Remove(e.seq, e.id, e.op == store::IndexOp::kErase);
      }
    }
    vector_changes_ = static_cast<int64_t>(log.size());
    vectors->index = std::move(index);
    publish();
    return Status::Ok();
  }
  // A snapshot was expected if one was ever written (the log before it is gone).
  MNEMO_ASSIGN_OR_RETURN(auto snapshot_seq, store::GetMeta(db, "snapshot_seq"));
  if (snapshot_seq || loaded.status().code() != StatusCode::kNotFound) {
    Log(LogLevel::kWarning, "space '" + name_ + "': vector index snapshot unusable (" +
                                loaded.status().message() + "); rebuilding it from SQLite");
  }
  std::shared_ptr<index::VectorIndex> index =
      index::VectorIndex::Create(vectors->id, vectors->dimension);
  if (!index) {
    return Status::Corruption("space '" + name_ + "' records embedder " + vectors->id +
                              " with an invalid dimension " + std::to_string(vectors->dimension));
  }
  MNEMO_ASSIGN_OR_RETURN(int64_t seq, store::MaxIndexSeq(db));
  int64_t n = 0;
  MNEMO_RETURN_IF_ERROR(
      store::ForEachVector(db, /*next=*/false, [&](MemoryId id, std::string_view blob) {
        index->Seed(seq, id, std::string(blob));
        ++n;
      }));
  vectors->index = std::move(index);
  publish();
  vector_changes_ = n > 0 ? std::max<int64_t>(n, 1) : 0;
  if (n > 0) ctx_->notify_indexer();
  return Status::Ok();
}

Status Space::Snapshot(int64_t min_changes) {
  std::lock_guard<std::mutex> snap_lock(snapshot_mu_);
  const int64_t lexical_changes = lexical_changes_.load();
  const int64_t vector_changes = vector_changes_.load();
  if (min_changes > 0 && std::max(lexical_changes, vector_changes) < min_changes) {
    return Status::Ok();
  }
  // Mid-rebuild there is nothing a vector snapshot could describe: the next open rebuilds
  // the graph again from the vectors table, and the log is kept.
  const auto vectors = CurrentVectors();
  const bool vectors_rebuilding = vectors->index->rebuilding();
  std::optional<int64_t> vector_seq;
  if (!vectors_rebuilding) {
    MNEMO_ASSIGN_OR_RETURN(auto info, vectors->index->Save(IndexPath(dir_)));
    vector_seq = info.applied_seq;
  }
  MNEMO_ASSIGN_OR_RETURN(const int64_t lexical_seq, lexical_->Save(LexicalPath(dir_)));
  lexical_disk_seq_ = lexical_seq;
  lexical_changes_ -= lexical_changes;
  vector_changes_ -= vector_changes;
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (vector_seq) {
      MNEMO_RETURN_IF_ERROR(store::SetMeta(*writer_, "snapshot_seq", std::to_string(*vector_seq)));
    }
    MNEMO_RETURN_IF_ERROR(store::SetMeta(*writer_, "lexical_seq", std::to_string(lexical_seq)));
  }
  if (vectors_rebuilding) return Status::Ok();
  // The log is needed after what each snapshot on disk holds, and by a re-embed building
  // its index after keep_log_after_. Deleted a slice per hold of the write lock, so that
  // writes wait for one slice, not for the whole log of a large space.
  int64_t keep = std::min(*vector_seq, lexical_seq);
  if (keep_log_after_.load() >= 0) keep = std::min(keep, keep_log_after_.load());
  constexpr int64_t kSlice = 20000;
  for (;;) {
    std::lock_guard<std::mutex> lock(write_mu_);
    MNEMO_ASSIGN_OR_RETURN(const int64_t deleted,
                           store::TruncateIndexLogSome(*writer_, keep, kSlice));
    if (deleted < kSlice) return Status::Ok();
  }
}

Status Space::CheckpointWal() {
  const int64_t pages = writer_->wal_pages();
  if (pages < kCheckpointPages || pages == checkpointed_pages_) return Status::Ok();
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  if (!checkpointer_) {
    MNEMO_ASSIGN_OR_RETURN(checkpointer_, store::Db::Open(DbPath(dir_), store::Db::Mode::kReadWrite,
                                                          DbOptionsOf(ctx_->options)));
  }
  checkpointed_pages_ = pages;
  return checkpointer_->CheckpointWal().WithContext("space '" + name_ + "'");
}

MemoryId Space::NextId() {
  const MemoryId from_clock = static_cast<MemoryId>(Now()) << kIdShift;
  last_id_ = std::max(last_id_ + 1, from_clock);
  return last_id_;
}

Status Space::ValidateText(std::string_view text, std::string_view what) const {
  if (text.empty()) {
    return Status::InvalidArgument(std::string(what) + " must not be empty")
        .WithField(std::string(what));
  }
  if (text.size() > ctx_->options.max_text_bytes) {
    return Status::TooLarge(std::string(what) + " is " + std::to_string(text.size()) +
                            " bytes; the limit is " + std::to_string(ctx_->options.max_text_bytes))
        .WithField(std::string(what));
  }
  if (auto bad = util::FindInvalidUtf8(text)) {
    return Status::InvalidArgument(std::string(what) + " is not valid UTF-8 (byte " +
                                   std::to_string(*bad) + ")")
        .WithField(std::string(what));
  }
  return Status::Ok();
}

Status Space::ValidateInput(const MemoryInput& in) const {
  MNEMO_RETURN_IF_ERROR(ValidateText(in.text, "text"));
  if (in.user_id.empty()) return Status::InvalidArgument("user is required").WithField("user");
  MNEMO_RETURN_IF_ERROR(ValidateShortField(in.user_id, "user"));
  MNEMO_RETURN_IF_ERROR(ValidateShortField(in.agent_id, "agent"));
  MNEMO_RETURN_IF_ERROR(ValidateShortField(in.session_id, "session"));
  MNEMO_RETURN_IF_ERROR(ValidateShortField(in.role, "role"));
  MNEMO_RETURN_IF_ERROR(ValidateShortField(in.speaker, "speaker"));
  MNEMO_RETURN_IF_ERROR(ValidateTags(in.tags, "tags"));
  MNEMO_RETURN_IF_ERROR(ValidateTags(in.entities, "entities"));
  if (in.sources.size() > kMaxSources) {
    return Status::TooLarge("sources holds " + std::to_string(in.sources.size()) +
                            " ids; the limit is " + std::to_string(kMaxSources))
        .WithField("sources");
  }
  for (size_t i = 0; i < in.sources.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (in.sources[i] == in.sources[j]) {
        return Status::InvalidArgument("sources names memory " + std::to_string(in.sources[i]) +
                                       " twice")
            .WithField("sources");
      }
    }
  }
  if (!(in.importance >= 0.0 && in.importance <= 1.0)) {
    return Status::InvalidArgument("importance must be between 0 and 1").WithField("importance");
  }
  if (in.valid_from && in.valid_to && *in.valid_to < *in.valid_from) {
    return Status::InvalidArgument("valid_to is before valid_from").WithField("valid_to");
  }
  if (in.expires_at && in.ttl_ms) {
    return Status::InvalidArgument("give either expires_at or ttl, not both").WithField("ttl");
  }
  if (in.ttl_ms && (*in.ttl_ms <= 0 || *in.ttl_ms > util::kMaxDurationMs)) {
    return Status::InvalidArgument("ttl must be positive and at most 100 years").WithField("ttl");
  }
  if (in.expires_at && *in.expires_at > Now() + util::kMaxDurationMs) {
    return Status::InvalidArgument("expires_at is more than 100 years away")
        .WithField("expires_at");
  }
  if (in.expires_at && *in.expires_at <= Now()) {
    return Status::InvalidArgument("expires_at " + util::FormatIso8601(*in.expires_at) +
                                   " is not in the future")
        .WithField("expires_at");
  }
  return util::NormalizeMetadata(in.metadata, ctx_->options.max_metadata_bytes).status();
}

Result<std::vector<std::string>> Space::EmbedBlobs(const Embedder& emb,
                                                   const std::vector<std::string_view>& texts) {
  std::vector<std::vector<float>> vecs;
  MNEMO_RETURN_IF_ERROR(emb.Embed(texts, &vecs).WithContext("embedding"));
  if (vecs.size() != texts.size()) {
    return Status::Corruption("embedder " + emb.id() + " returned " + std::to_string(vecs.size()) +
                              " vectors for " + std::to_string(texts.size()) + " texts");
  }
  std::vector<std::string> blobs;
  blobs.reserve(vecs.size());
  for (const auto& v : vecs) {
    if (static_cast<int>(v.size()) != emb.dimension()) {
      return Status::Corruption("embedder " + emb.id() + " returned a vector of dimension " +
                                std::to_string(v.size()) + ", expected " +
                                std::to_string(emb.dimension()));
    }
    blobs.push_back(index::Quantize(v));
  }
  return blobs;
}

void Space::ApplyToIndex(std::vector<IndexChange>& changes) {
  if (changes.empty()) return;
  index::VectorIndex& index = *CurrentVectors()->index;
  for (auto& c : changes) {
    if (c.blob.empty()) {
      index.Remove(c.seq, c.id, c.erase);
    } else {
      index.Upsert(c.seq, c.id, std::move(c.blob));
    }
  }
  vector_changes_ += static_cast<int64_t>(changes.size());
  ctx_->notify_indexer();
}

void Space::AdjustUserCount(const std::string& user, int64_t delta) {
  std::lock_guard<std::mutex> lock(counts_mu_);
  int64_t& n = user_counts_[user];
  n += delta;
  total_count_ += delta;
  if (n <= 0) user_counts_.erase(user);
}

Status Space::LabelExisting(store::Db& db) {
  store::Transaction txn(&db);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  MNEMO_ASSIGN_OR_RETURN(const auto with_secrets, store::IdsWithSecrets(db));
  std::unordered_map<MemoryId, LabelSet> labelled;  // sources come before what they derive
  std::vector<std::pair<MemoryId, LabelSet>> changed;
  MNEMO_RETURN_IF_ERROR(store::ForEachLabelInput(
      db, [&](MemoryId id, std::string_view text, const std::vector<MemoryId>& sources) {
        LabelSet labels = LabelsFor(0, text, with_secrets.count(id) != 0);
        for (MemoryId s : sources) {
          if (auto it = labelled.find(s); it != labelled.end()) labels |= it->second;
        }
        if (labels != 0) {
          labelled[id] = labels;
          changed.emplace_back(id, labels);
        }
        return Status::Ok();
      }));
  for (const auto& [id, labels] : changed) MNEMO_RETURN_IF_ERROR(store::SetLabels(db, id, labels));
  return txn.Commit();
}

LabelSet Space::LabelsFor(LabelSet given, std::string_view stored_text, bool had_secrets) {
  LabelSet labels = given | write::FindLabels(stored_text);
  if (had_secrets) labels |= LabelBit(Label::kCredentials);
  return labels;
}

std::string Space::WithInferredSlot(const MemoryInput& in, std::string metadata) const {
  if ((in.kind != Kind::kFact && in.kind != Kind::kPreference) || in.origin == Origin::kDerived) {
    return metadata;
  }
  auto meta = util::ParseStoredJson(metadata);
  if (!meta.ok() || !meta->is_object() || meta->contains("slot")) return metadata;
  auto c = write::SlotOfStatement(in.text, in.user_id, in.speaker);
  if (!c) return metadata;
  (*meta)["slot"] = c->slot;
  (*meta)["value"] = c->value;
  (*meta)["polarity"] = c->polarity;
  std::string out = util::DumpJson(*meta);
  return out.size() <= ctx_->options.max_metadata_bytes ? out : metadata;
}

std::string Space::QuarantineReason(Origin origin, std::string_view text) const {
  if (!ctx_->options.quarantine_instructions || TrustOf(origin) != Trust::kLow) return {};
  auto found = write::FindInstructions(text);
  if (!found) return {};
  return "reads as instructions to the agent (" + found->family + ": \"" + found->excerpt + "\")";
}

Result<std::vector<MemoryId>> Space::AddBatch(const std::vector<MemoryInput>& inputs) {
  return WriteBatch(inputs, /*link_sessions=*/false);
}

Result<std::vector<MemoryId>> Space::WriteBatch(const std::vector<MemoryInput>& inputs,
                                                bool link_sessions) {
  if (inputs.empty()) return std::vector<MemoryId>();
  if (inputs.size() > ctx_->options.max_batch) {
    return Status::TooLarge("batch of " + std::to_string(inputs.size()) +
                            " memories; the limit is " + std::to_string(ctx_->options.max_batch))
        .WithField("memories");
  }
  std::vector<std::string> metadata(inputs.size());
  std::vector<write::MaskedText> masked(inputs.size());  // the texts as stored
  std::vector<std::string_view> texts;
  texts.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    Status s = ValidateInput(inputs[i]);
    if (!s.ok()) {
      // Field "[2].text" (the caller names the array), message "item 3: text ..." (but
      // in a batch of one).
      const std::string at = "[" + std::to_string(i) + "]";
      const Status named = s.WithField(s.field().empty() ? at : at + "." + s.field());
      return inputs.size() == 1 ? named : named.WithContext("item " + std::to_string(i + 1));
    }
    metadata[i] = *util::NormalizeMetadata(inputs[i].metadata, ctx_->options.max_metadata_bytes);
    metadata[i] = WithInferredSlot(inputs[i], std::move(metadata[i]));
    masked[i] = write::MaskSecrets(inputs[i].text);
    texts.push_back(masked[i].text);
  }
  // Quarantine and sensitivity labels, outside the writer's lock.
  std::vector<std::string> quarantine(inputs.size());
  std::vector<LabelSet> labels(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    quarantine[i] = QuarantineReason(inputs[i].origin, masked[i].text);
    labels[i] = LabelsFor(inputs[i].labels, masked[i].text, !masked[i].secrets.empty());
  }
  // A provider failure leaves vectors out (an embed job adds them later), never the write.
  MNEMO_ASSIGN_OR_RETURN(const WriteVectors vecs, EmbedForWrite(texts));

  std::vector<MemoryId> ids;
  ids.reserve(inputs.size());
  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  const auto vectors = CurrentVectors();
  store::Db& db = txn.db();
  const TimeMs now = Now();
  std::vector<IndexChange>& changes = *txn.vector_changes();
  changes.reserve(inputs.size());
  std::vector<Memory> written;  // for the pipeline's jobs
  if (pipeline_->enabled) written.reserve(inputs.size());
  std::vector<MemoryId> unembedded;  // for embed jobs
  std::vector<TimeMs> expiries;
  std::set<std::pair<std::string, std::string>> working_sessions;  // (user, session)
  // Previous episode per session, for "next" links (ingest only).
  std::unordered_map<std::string, MemoryId> last_in_session;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const MemoryInput& in = inputs[i];
    Memory m;
    m.id = NextId();
    m.kind = in.kind;
    m.text = std::move(masked[i].text);
    m.user_id = in.user_id;
    m.agent_id = in.agent_id;
    m.session_id = in.session_id;
    m.role = in.role;
    m.speaker = in.speaker;
    m.event_time = in.event_time ? in.event_time : std::optional<TimeMs>(now);
    m.valid_from = in.valid_from;
    m.valid_to = in.valid_to;
    m.created_at = now;
    m.updated_at = now;
    m.importance = in.importance;
    m.expires_at = ExpiryFor(in, now);
    // A conversation's turns form its session's working set (bounded below).
    m.tier = m.kind == Kind::kEpisode && !m.session_id.empty() ? Tier::kWorking : Tier::kShortTerm;
    m.origin = in.origin;
    m.quarantine = std::move(quarantine[i]);
    m.labels = labels[i];
    m.tags = in.tags;
    m.entities = in.entities;
    m.sources = in.sources;
    m.metadata = metadata[i];
    Status s = CheckSources(db, m, "[" + std::to_string(i) + "].sources");
    if (s.ok()) s = store::InsertMemory(db, m);
    if (s.ok() && !masked[i].secrets.empty()) s = PutSecrets(db, m.id, masked[i].secrets);
    if (s.ok())
      s = store::AppendHistory(db, HistoryEntry{m.id, 1, HistoryOp::kAdd, "", "", "api", now, ""});
    if (!s.ok()) return s;
    auto missing = PutVectors(db, *vectors, m.id, vecs, i, /*replace=*/false, &changes);
    if (!missing.ok()) return missing.status();
    if (*missing) unembedded.push_back(m.id);
    for (MemoryId src : m.sources) {
      s = store::InsertLink(db, Link{m.id, src, LinkType::kDerivedFrom, 1.0});
      if (!s.ok()) return s;
    }
    if (link_sessions && !m.session_id.empty()) {
      auto [it, inserted] = last_in_session.emplace(m.session_id, 0);
      if (inserted) {
        auto prev = store::LastInSession(db, m.user_id, m.session_id, m.id);
        if (!prev.ok()) return prev.status();
        it->second = prev->value_or(0);
      }
      if (it->second != 0) {
        s = store::InsertLink(db, Link{it->second, m.id, LinkType::kNext, 1.0});
        if (!s.ok()) return s;
      }
      it->second = m.id;
    }
    if (m.expires_at) expiries.push_back(*m.expires_at);
    if (m.tier == Tier::kWorking) working_sessions.emplace(m.user_id, m.session_id);
    ids.push_back(m.id);
    if (pipeline_->enabled) written.push_back(std::move(m));
  }
  for (const auto& [user, session] : working_sessions) {
    Status s = BoundWorkingSet(db, user, session);
    if (!s.ok()) return s;
  }
  auto jobs = EnqueueExtraction(db, written, now);
  if (!jobs.ok()) return jobs.status();
  if (!unembedded.empty()) {
    const std::string& user = inputs.front().user_id;
    const bool one_user = std::all_of(inputs.begin(), inputs.end(),
                                      [&](const MemoryInput& in) { return in.user_id == user; });
    Status s = EnqueueEmbed(db, unembedded, one_user ? user : "", vecs.deferred, now);
    if (!s.ok()) return s;
  }
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  if (*jobs) WakeJobsAt(now);
  for (TimeMs t : expiries) NoteExpiry(t);
  if (!unembedded.empty()) {
    WakeJobsAt(now + pipeline_->retry_initial_ms);
    Log(LogLevel::kWarning, "space '" + name_ + "': stored " + std::to_string(unembedded.size()) +
                                " memories without their vector (" + vecs.deferred.ToString() +
                                "); an embed job will add it");
  }
  for (const auto& in : inputs) AdjustUserCount(in.user_id, 1);
  return ids;
}

Result<IngestResult> Space::Ingest(const std::string& user, const std::vector<Message>& messages) {
  // The user is every message's: its errors are the call's, not an item's.
  if (user.empty()) return Status::InvalidArgument("user is required").WithField("user");
  MNEMO_RETURN_IF_ERROR(ValidateShortField(user, "user"));
  std::vector<MemoryInput> inputs;
  inputs.reserve(messages.size());
  for (const auto& msg : messages) {
    MemoryInput in;
    in.text = msg.text;
    in.user_id = user;
    in.agent_id = msg.agent;
    in.session_id = msg.session;
    in.kind = Kind::kEpisode;
    in.role = msg.role;
    in.speaker = msg.speaker;
    in.event_time = msg.time;
    in.metadata = msg.meta;
    in.origin = msg.role == "assistant" ? Origin::kAssistant
                : msg.role == "tool"    ? Origin::kTool
                                        : Origin::kUser;
    inputs.push_back(std::move(in));
  }
  MNEMO_ASSIGN_OR_RETURN(auto ids, WriteBatch(inputs, /*link_sessions=*/true));
  return IngestResult{std::move(ids)};
}

Result<Memory> Space::Get(MemoryId id) {
  ExpireIfDue();
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(*reader, id));
  if (!m) return Missing(*reader, id);
  return std::move(*m);
}

Result<Memory> Space::Reveal(MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(*reader, id));
  if (!m) return Missing(*reader, id);
  MNEMO_ASSIGN_OR_RETURN(auto stored, store::ReadSecrets(*reader, id));
  std::vector<write::HiddenSecret> secrets;
  for (auto& [kind, value] : stored) secrets.push_back({std::move(kind), std::move(value)});
  m->text = write::RevealSecrets(m->text, secrets);
  return std::move(*m);
}

Status Space::CheckFilterSizes(const Filter& f) {
  MNEMO_RETURN_IF_ERROR(ValidateTags(f.tags, "tags"));
  if (f.meta_equals.size() > kMaxTags) {
    return Status::TooLarge("metadata filter has " + std::to_string(f.meta_equals.size()) +
                            " keys; at most " + std::to_string(kMaxTags) + " allowed")
        .WithField("meta");
  }
  return Status::Ok();
}

Status Space::PrepareFilter(Filter* f) {
  MNEMO_RETURN_IF_ERROR(CheckFilterSizes(*f));
  if (f->expression.empty()) return Status::Ok();
  MNEMO_ASSIGN_OR_RETURN(auto e, store::FilterExpression::Parse(f->expression));
  MNEMO_RETURN_IF_ERROR(e.HoistScope(f));
  f->expression = e.ToJson();
  return Status::Ok();
}

Result<ListPage> Space::List(const ListRequest& list_request) {
  if (list_request.limit < 1 || list_request.limit > ctx_->options.max_list_limit) {
    return Status::InvalidArgument("limit must be between 1 and " +
                                   std::to_string(ctx_->options.max_list_limit))
        .WithField("limit");
  }
  ListRequest request = list_request;
  MNEMO_RETURN_IF_ERROR(PrepareFilter(&request.filter));
  ExpireIfDue();
  MemoryId cursor_id = 0;
  if (!request.cursor.empty()) {
    const std::string& c = request.cursor;
    bool ok = c.size() > 1 && c.size() < 20 && c[0] == 'c';
    for (size_t i = 1; ok && i < c.size(); ++i) ok = c[i] >= '0' && c[i] <= '9';
    if (!ok)
      return Status::InvalidArgument("invalid cursor \"" + c +
                                     "\"; pass a next_cursor from a previous page")
          .WithField("cursor");
    cursor_id = std::stoll(c.substr(1));
  }
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  // One extra row tells whether another page exists.
  MNEMO_ASSIGN_OR_RETURN(auto rows, store::ListMemories(*reader, request.filter, cursor_id,
                                                        request.descending, request.limit + 1));
  ListPage page;
  if (static_cast<int>(rows.size()) > request.limit) {
    rows.resize(static_cast<size_t>(request.limit));
    page.next_cursor = "c" + std::to_string(rows.back().id);
  }
  if (request.filter.as_of) {
    for (auto& m : rows) MNEMO_RETURN_IF_ERROR(RewindTo(*reader, *request.filter.as_of, &m));
  }
  page.memories = std::move(rows);
  return page;
}

Result<UserPage> Space::ListUsers(const std::string& cursor, int limit) {
  if (limit < 1 || limit > ctx_->options.max_list_limit) {
    return Status::InvalidArgument("limit must be between 1 and " +
                                   std::to_string(ctx_->options.max_list_limit))
        .WithField("limit");
  }
  // The cursor is "u" + base64 of the last user id of the previous page.
  std::string after;
  if (!cursor.empty()) {
    auto decoded = util::Base64Decode(cursor.substr(1));
    if (cursor[0] != 'u' || !decoded.ok() || decoded->empty()) {
      return Status::InvalidArgument("invalid cursor \"" + cursor +
                                     "\"; pass a next_cursor from a previous page")
          .WithField("cursor");
    }
    after = std::move(decoded).value();
  }
  ExpireIfDue();
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  MNEMO_ASSIGN_OR_RETURN(auto users, store::ListUsers(*reader, after, limit + 1));
  UserPage page;
  if (static_cast<int>(users.size()) > limit) {
    users.resize(static_cast<size_t>(limit));
    page.next_cursor = "u" + util::Base64Encode(users.back().user);
  }
  page.users = std::move(users);
  return page;
}

Status Space::RewindTo(store::Db& db, TimeMs t, Memory* m) {
  if (m->updated_at <= t) return Status::Ok();  // unchanged since
  MNEMO_ASSIGN_OR_RETURN(auto history, store::ReadHistory(db, m->id));
  for (const auto& h : history) {
    if (h.time <= t || h.op == HistoryOp::kAdd) continue;
    // The first change after t: the memory before it is the version of time t. A purge
    // emptied `before`; the memory then stays as it is (erased).
    if (h.before.empty()) return Status::Ok();
    MNEMO_ASSIGN_OR_RETURN(auto j, util::ParseStoredJson(h.before));
    MNEMO_ASSIGN_OR_RETURN(Memory then, util::MemoryFromJson(j));
    then.id = m->id;
    *m = std::move(then);
    return Status::Ok();
  }
  return Status::Ok();
}

Result<Memory> Space::Update(MemoryId id, const MemoryUpdate& u) {
  if (u.text) MNEMO_RETURN_IF_ERROR(ValidateText(*u.text, "text"));
  if (u.tags) MNEMO_RETURN_IF_ERROR(ValidateTags(*u.tags, "tags"));
  if (u.entities) MNEMO_RETURN_IF_ERROR(ValidateTags(*u.entities, "entities"));
  if (u.importance && !(*u.importance >= 0.0 && *u.importance <= 1.0)) {
    return Status::InvalidArgument("importance must be between 0 and 1").WithField("importance");
  }
  MNEMO_RETURN_IF_ERROR(ValidateShortField(u.reason, "reason"));
  MNEMO_RETURN_IF_ERROR(ValidateShortField(u.actor, "actor"));
  std::optional<std::string> metadata;
  if (u.metadata) {
    MNEMO_ASSIGN_OR_RETURN(metadata,
                           util::NormalizeMetadata(*u.metadata, ctx_->options.max_metadata_bytes));
  }
  WriteVectors vecs;
  std::optional<write::MaskedText> masked;
  if (u.text) {
    masked = write::MaskSecrets(*u.text);
    // A provider failure leaves the vector to an embed job, never fails the update.
    MNEMO_ASSIGN_OR_RETURN(vecs, EmbedForWrite({masked->text}));
  }
  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  const auto vectors = CurrentVectors();
  store::Db& db = txn.db();
  MNEMO_ASSIGN_OR_RETURN(auto current, store::GetMemory(db, id));
  if (!current) return Missing(db, id);
  if (current->state == State::kRetired) {
    return Status::FailedPrecondition("memory " + std::to_string(id) +
                                      " is retired; retired memories cannot be updated")
        .WithField("id");
  }
  Memory next = *current;
  if (masked) {
    next.text = masked->text;
    MNEMO_RETURN_IF_ERROR(PutSecrets(db, id, masked->secrets));
  }
  if (u.kind) next.kind = *u.kind;
  if (u.event_time) next.event_time = *u.event_time;
  if (u.valid_from) next.valid_from = *u.valid_from;
  if (u.valid_to) next.valid_to = *u.valid_to;
  if (u.expires_at) next.expires_at = *u.expires_at;
  if (u.importance) next.importance = *u.importance;
  if (u.tier) next.tier = *u.tier;
  if (u.tags) next.tags = *u.tags;
  if (u.entities) next.entities = *u.entities;
  if (metadata) next.metadata = *metadata;
  if (u.labels || masked) {
    // The caller's labels (or the memory's), and what the rules find in the text.
    next.labels = LabelsFor(u.labels.value_or(current->labels), next.text,
                            masked && !masked->secrets.empty());
    if (!masked) {
      MNEMO_ASSIGN_OR_RETURN(auto secrets, store::ReadSecrets(db, id));
      if (!secrets.empty()) next.labels |= LabelBit(Label::kCredentials);
    }
  }
  if (u.quarantined) {
    next.quarantine = !*u.quarantined                ? std::string()
                      : !current->quarantine.empty() ? current->quarantine
                      : !u.reason.empty()            ? u.reason
                                                     : std::string("quarantined by hand");
  } else if (masked && next.text != current->text) {
    next.quarantine = QuarantineReason(next.origin, next.text);
  }
  if (next.valid_from && next.valid_to && *next.valid_to < *next.valid_from) {
    return Status::InvalidArgument("valid_to is before valid_from").WithField("valid_to");
  }
  const TimeMs now = Now();
  if (u.expires_at && *u.expires_at && **u.expires_at <= now) {
    return Status::InvalidArgument("expires_at " + util::FormatIso8601(**u.expires_at) +
                                   " is not in the future (remove the memory instead)")
        .WithField("expires_at");
  }
  next.version = current->version + 1;
  next.updated_at = now;
  MNEMO_RETURN_IF_ERROR(store::ReplaceMemory(db, *current, next));
  MNEMO_RETURN_IF_ERROR(store::AppendHistory(
      db, HistoryEntry{id, next.version, HistoryOp::kUpdate, MemoryJsonText(*current), "",
                       u.actor.empty() ? "api" : u.actor, now, u.reason}));
  bool unembedded = false;
  if (u.text && next.text != current->text) {
    MNEMO_ASSIGN_OR_RETURN(
        unembedded, PutVectors(db, *vectors, id, vecs, 0, /*replace=*/true, txn.vector_changes()));
    if (unembedded) {
      MNEMO_RETURN_IF_ERROR(EnqueueEmbed(db, {id}, next.user_id, vecs.deferred, now));
    }
  }
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  if (next.expires_at) NoteExpiry(*next.expires_at);
  if (unembedded) {
    WakeJobsAt(now + pipeline_->retry_initial_ms);
    Log(LogLevel::kWarning, "space '" + name_ + "': memory " + std::to_string(id) +
                                " updated without its new vector (" + vecs.deferred.ToString() +
                                "); an embed job will add it");
  }
  return next;
}

Status Space::Remove(MemoryId id, const std::string& reason) {
  return RemoveIds({id}, reason, /*missing_is_error=*/true).status();
}

Result<int64_t> Space::RemoveMany(const std::vector<MemoryId>& ids, const std::string& reason) {
  return RemoveIds(ids, reason, /*missing_is_error=*/false);
}

Result<int64_t> Space::RemoveIds(const std::vector<MemoryId>& ids, const std::string& reason,
                                 bool missing_is_error) {
  MNEMO_RETURN_IF_ERROR(ValidateShortField(reason, "reason"));
  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  store::Db& db = txn.db();
  const TimeMs now = Now();
  int64_t removed = 0;
  for (MemoryId id : ids) {
    MNEMO_ASSIGN_OR_RETURN(auto current, store::GetMemory(db, id));
    if (!current && missing_is_error) return Missing(db, id);
    if (!current || current->state == State::kRetired) continue;  // gone or removed already
    MNEMO_RETURN_IF_ERROR(RetireOne(db, *current, now, now, "api", reason));
    MNEMO_RETURN_IF_ERROR(ScheduleSummaryRefresh(db, *current, now));
    ++removed;
  }
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  if (removed > 0 && pipeline_->enabled && pipeline_->summaries) {
    WakeJobsAt(now + pipeline_->summary_wait_ms);
  }
  return removed;
}

Status Space::RetireOne(store::Db& db, const Memory& current, TimeMs at, TimeMs now,
                        const std::string& actor, const std::string& reason) {
  Memory next = current;
  next.state = State::kRetired;
  next.expired_at = at;
  next.updated_at = now;
  next.version = current.version + 1;
  MNEMO_RETURN_IF_ERROR(store::ReplaceMemory(db, current, next));
  return store::AppendHistory(db, HistoryEntry{current.id, next.version, HistoryOp::kRemove,
                                               MemoryJsonText(current), "", actor, now, reason});
}

Status Space::EraseOne(store::Db& db, const Memory& current, const std::string& reason,
                       std::vector<IndexChange>* changes) {
  MNEMO_RETURN_IF_ERROR(store::EraseMemory(db, current));
  MNEMO_RETURN_IF_ERROR(store::ScrubHistory(db, current.id));
  MNEMO_RETURN_IF_ERROR(
      store::AppendHistory(db, HistoryEntry{current.id, current.version + 1, HistoryOp::kPurge, "",
                                            "", "api", Now(), reason}));
  MNEMO_ASSIGN_OR_RETURN(int64_t seq,
                         store::LogIndexChange(db, current.id, store::IndexOp::kErase));
  changes->push_back(IndexChange{seq, current.id, "", /*erase=*/true});
  return Status::Ok();
}

Status Space::CheckSources(store::Db& db, const Memory& m, const std::string& field) {
  for (MemoryId src : m.sources) {
    MNEMO_ASSIGN_OR_RETURN(auto source, store::GetMemory(db, src));
    // One answer whether the id is unknown or another user's: a purge of a source takes
    // what was derived from it, so a memory derives from its own user's memories only.
    if (!source || source->user_id != m.user_id) {
      return Status::InvalidArgument("sources: memory " + std::to_string(src) +
                                     " is not a memory of user '" + m.user_id + "' in space '" +
                                     name_ + "'")
          .WithField(field);
    }
  }
  return Status::Ok();
}

Result<std::vector<MemoryId>> Space::Purge(MemoryId id, const std::string& reason) {
  MNEMO_RETURN_IF_ERROR(ValidateShortField(reason, "reason"));
  std::string user;
  std::vector<MemoryId> erased;
  {
    WriteTxn txn(this);
    MNEMO_RETURN_IF_ERROR(txn.Begin());
    store::Db& db = txn.db();
    MNEMO_ASSIGN_OR_RETURN(auto root, store::GetMemory(db, id));
    if (!root) return Missing(db, id);
    user = root->user_id;
    // What was derived from the memory holds its content: it goes too (provenance).
    MNEMO_ASSIGN_OR_RETURN(auto victims, DerivedFrom(db, id));
    victims.insert(victims.begin(), id);
    for (MemoryId victim : victims) {
      MNEMO_ASSIGN_OR_RETURN(auto current, store::GetMemory(db, victim));
      // Never another user's memory, even one that (from before sources were checked)
      // names this one as its source.
      if (!current || current->user_id != user) continue;
      const std::string why =
          victim == id ? reason : "derived from purged memory " + std::to_string(id);
      MNEMO_RETURN_IF_ERROR(EraseOne(db, *current, why, txn.vector_changes()));
      erased.push_back(victim);
    }
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    // Move the WAL into the database and truncate it (secure_delete zeroed the freed
    // pages).
    MNEMO_RETURN_IF_ERROR(db.TruncateWal());
  }
  AdjustUserCount(user, -static_cast<int64_t>(erased.size()));
  // The snapshots on disk may hold the vector and the terms: rewrite them now.
  MNEMO_RETURN_IF_ERROR(Snapshot(/*min_changes=*/0));
  return erased;
}

Status Space::Missing(store::Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(bool had, store::HasHistory(db, id));
  if (had) {
    return Status::NotFound("memory " + std::to_string(id) + " was purged from space '" + name_ +
                            "'")
        .WithField("id");
  }
  return NotFoundId(id, name_);
}

Result<std::vector<HistoryEntry>> Space::History(MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  MNEMO_ASSIGN_OR_RETURN(auto entries, store::ReadHistory(*reader, id));
  if (entries.empty()) return NotFoundId(id, name_);
  MNEMO_ASSIGN_OR_RETURN(auto current, store::GetMemory(*reader, id));
  // The state after entry i is the state before entry i+1, or the current row.
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size()) {
      entries[i].after = entries[i + 1].before;
    } else if (current) {
      entries[i].after = MemoryJsonText(*current);
    }
  }
  return entries;
}

Result<std::vector<Link>> Space::Links(MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(*reader, id));
  if (!m) return Missing(*reader, id);
  return store::ReadLinks(*reader, id);
}

Result<int64_t> Space::ActiveCount() {
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  return store::CountOf(*reader, store::Counted::kActive);
}

Result<SpaceStats> Space::Stats() {
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  store::Db& db = *reader;
  SpaceStats s;
  s.name = name_;
  MNEMO_ASSIGN_OR_RETURN(s.memories_active, store::CountOf(db, store::Counted::kActive));
  MNEMO_ASSIGN_OR_RETURN(s.memories_retired, store::CountOf(db, store::Counted::kRetired));
  MNEMO_ASSIGN_OR_RETURN(auto kinds, store::CountActiveBy(db, store::ActiveGroup::kKind));
  for (auto [k, n] : kinds) s.by_kind[std::string(KindName(static_cast<Kind>(k)))] = n;
  MNEMO_ASSIGN_OR_RETURN(auto tiers, store::CountActiveBy(db, store::ActiveGroup::kTier));
  for (auto [t, n] : tiers) s.by_tier[std::string(TierName(static_cast<Tier>(t)))] = n;
  MNEMO_ASSIGN_OR_RETURN(s.users, store::CountOf(db, store::Counted::kUsers));
  MNEMO_ASSIGN_OR_RETURN(s.sessions, store::CountOf(db, store::Counted::kSessions));
  MNEMO_ASSIGN_OR_RETURN(s.history_entries, store::CountOf(db, store::Counted::kHistory));
  MNEMO_ASSIGN_OR_RETURN(s.links, store::CountOf(db, store::Counted::kLinks));
  const auto vectors = CurrentVectors();
  const index::VectorIndex::Counts counts = vectors->index->counts();
  s.vectors_indexed = static_cast<int64_t>(counts.indexed);
  s.vectors_pending = static_cast<int64_t>(counts.pending_new);
  s.embedder = vectors->id;
  s.dimension = vectors->dimension;
  s.vector_search = vectors->embedder != nullptr;
  if (vectors->next) {
    s.embedder_next = vectors->next->id();
    s.dimension_next = vectors->next->dimension();
    MNEMO_ASSIGN_OR_RETURN(s.reembedded, store::CountOf(db, store::Counted::kNextVectors));
    MNEMO_ASSIGN_OR_RETURN(s.reembed_total, store::CountOf(db, store::Counted::kMemories));
  }
  MNEMO_ASSIGN_OR_RETURN(s.schema_version, store::SchemaVersion(db));
  s.db_bytes = util::FileSizeOrZero(DbPath(dir_)) + util::FileSizeOrZero(DbPath(dir_) + "-wal");
  s.index_bytes = util::FileSizeOrZero(IndexPath(dir_)) + util::FileSizeOrZero(LexicalPath(dir_));
  return s;
}

}  // namespace mnemo::engine
