// Engine: the data directory, the cache of open spaces, and the background indexer.
#include "mnemo/engine.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "embed/builtin_embedder.h"
#include "engine/context.h"
#include "engine/space.h"
#include "util/fs.h"

namespace mnemo {

namespace {

class WallClock final : public Clock {
 public:
  TimeMs NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

constexpr const char* kMarkerName = "MNEMO";
constexpr const char* kMarkerText = "mnemo data directory\nformat 1\n";

void StderrLogger(LogLevel level, std::string_view msg) {
  const char* tag = level == LogLevel::kError     ? "error"
                    : level == LogLevel::kWarning ? "warning"
                    : level == LogLevel::kInfo    ? "info"
                                                  : "debug";
  if (level >= LogLevel::kWarning) std::cerr << "mnemo: " << tag << ": " << msg << "\n";
}

Status ValidateSpaceName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.');
  }
  if (!ok) {
    return Status::InvalidArgument("invalid space name \"" + name +
                                   "\": use 1-64 characters of A-Z a-z 0-9 _ - . "
                                   "(not starting with '.')")
        .WithField("space");
  }
  return Status::Ok();
}

class EngineImpl final : public Engine {
 public:
  EngineImpl(std::string dir, engine::SpaceContext ctx, std::unique_ptr<util::FileLock> lock)
      : dir_(std::move(dir)), ctx_(std::move(ctx)), lock_(std::move(lock)) {
    ctx_.stopping = [this] { return closing_.load(); };
    ctx_.notify_indexer = [this] {
      last_write_ = std::chrono::steady_clock::now().time_since_epoch().count();
      {
        std::lock_guard<std::mutex> l(indexer_mu_);
        indexer_wakeups_++;
      }
      indexer_cv_.notify_one();
    };
    indexer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "mnemo-index");  // for top -H and perf
      IndexerLoop();
    });
    if (ctx_.options.background_jobs) {
      pipeline_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "mnemo-jobs");
        PipelineLoop();
      });
    }
  }

  ~EngineImpl() override {
    closing_ = true;  // a job runner stops between steps (its jobs stay pending)
    {
      std::lock_guard<std::mutex> l(indexer_mu_);
      stopping_ = true;
    }
    indexer_cv_.notify_all();
    indexer_.join();
    if (pipeline_.joinable()) pipeline_.join();
    std::lock_guard<std::mutex> l(spaces_mu_);
    spaces_.clear();  // each Space snapshots its index as it closes
    lru_.clear();
  }

  Status CreateSpace(const std::string& name) override {
    MNEMO_RETURN_IF_ERROR(ValidateSpaceName(name));
    // A new name may not start with '-' either: the CLI would read it as an option. (Only
    // at creation: a space made before this rule stays reachable.)
    if (name[0] == '-') {
      return Status::InvalidArgument("invalid space name \"" + name +
                                     "\": a new space's name may not start with '-' (the "
                                     "command line would read it as an option)")
          .WithField("space");
    }
    std::lock_guard<std::mutex> l(spaces_mu_);
    if (util::PathExists(SpaceDir(name))) {
      return Status::AlreadyExists("space '" + name + "' already exists").WithField("space");
    }
    auto space = engine::Space::Open(SpaceDir(name), name, /*create=*/true, &ctx_);
    if (!space.ok()) {
      (void)util::RemoveAll(SpaceDir(name));
      return space.status();
    }
    Insert(name, std::shared_ptr<engine::Space>(std::move(space).value()));
    return Status::Ok();
  }

  Result<std::vector<SpaceInfo>> ListSpaces() override {
    MNEMO_ASSIGN_OR_RETURN(auto names, util::ListDirectories(dir_ + "/spaces"));
    std::sort(names.begin(), names.end());
    std::vector<SpaceInfo> out;
    for (const auto& name : names) {
      if (!ValidateSpaceName(name).ok()) continue;
      auto space = Get(name);
      if (!space.ok()) continue;  // a folder being created or dropped
      MNEMO_ASSIGN_OR_RETURN(int64_t n, (*space)->ActiveCount());
      out.push_back(SpaceInfo{name, n});
    }
    return out;
  }

  Status DropSpace(const std::string& name) override {
    MNEMO_RETURN_IF_ERROR(ValidateSpaceName(name));
    std::shared_ptr<engine::Space> open;
    {
      std::lock_guard<std::mutex> l(spaces_mu_);
      if (!util::PathExists(SpaceDir(name))) {
        return Status::NotFound("space '" + name + "' does not exist").WithField("space");
      }
      auto it = spaces_.find(name);
      if (it != spaces_.end()) {
        open = std::move(it->second.space);
        lru_.erase(it->second.lru);
        spaces_.erase(it);
      }
      // The folder goes first so that nothing reopens it; in-flight calls that still
      // hold the space finish on unlinked files.
      MNEMO_RETURN_IF_ERROR(util::RemoveAll(SpaceDir(name)));
    }
    return Status::Ok();
  }

  Result<MemoryId> Add(const std::string& space, const MemoryInput& input) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    auto ids = s->AddBatch({input});
    if (!ids.ok()) {
      // Not a batch: "[0].text" is "text".
      const std::string& field = ids.status().field();
      return ids.status().WithField(field.starts_with("[0].") ? field.substr(4) : "");
    }
    return ids->at(0);
  }
  Result<std::vector<MemoryId>> AddBatch(const std::string& space,
                                         const std::vector<MemoryInput>& inputs) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->AddBatch(inputs);
  }
  Result<IngestResult> Ingest(const std::string& space, const std::string& user,
                              const std::vector<Message>& messages) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Ingest(user, messages);
  }
  Result<Memory> Get(const std::string& space, MemoryId id) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Get(id);
  }
  Result<Memory> Reveal(const std::string& space, MemoryId id) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Reveal(id);
  }
  Result<ListPage> List(const std::string& space, const ListRequest& request) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->List(request);
  }
  Result<Memory> Update(const std::string& space, MemoryId id, const MemoryUpdate& u) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Update(id, u);
  }
  Status Remove(const std::string& space, MemoryId id, const std::string& reason) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Remove(id, reason);
  }
  Result<int64_t> RemoveMany(const std::string& space, const std::vector<MemoryId>& ids,
                             const std::string& reason) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->RemoveMany(ids, reason);
  }
  Result<std::vector<MemoryId>> Purge(const std::string& space, MemoryId id,
                                      const std::string& reason) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Purge(id, reason);
  }
  Result<std::vector<HistoryEntry>> History(const std::string& space, MemoryId id) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->History(id);
  }
  Result<std::vector<Link>> Links(const std::string& space, MemoryId id) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Links(id);
  }
  Result<std::vector<SearchHit>> Search(const std::string& space,
                                        const SearchRequest& request) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Search(request);
  }
  Status Export(const std::string& space, std::ostream& out) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Export(out);
  }
  Status ExportUser(const std::string& space, const std::string& user, std::ostream& out) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Export(out, user);
  }
  Result<UserErasure> EraseUser(const std::string& space, const std::string& user,
                                const std::string& reason) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->EraseUser(user, reason);
  }
  Result<ImportResult> Import(const std::string& space, std::istream& in) override {
    MNEMO_RETURN_IF_ERROR(ValidateSpaceName(space));
    bool created = false;
    if (!util::PathExists(SpaceDir(space))) {
      Status s = CreateSpace(space);
      if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
      created = s.ok();
    }
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    auto result = s->Import(in);
    if (!result.ok() && created) (void)DropSpace(space);  // a failed import leaves no trace
    return result;
  }
  Result<SpaceStats> Stats(const std::string& space) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Stats();
  }

  Result<Profile> GetProfile(const std::string& space, const std::string& user, int limit,
                             LabelSet exclude_labels) override {
    return engine::ReadProfile(*this, space, user, limit, exclude_labels);
  }
  Result<Profile> EditProfile(const std::string& space, const ProfileEdit& edit) override {
    return engine::ApplyProfileEdit(*this, space, edit, ctx_.options.clock->NowMillis());
  }
  Result<ContextResult> BuildContext(const std::string& space,
                                     const ContextRequest& request) override {
    return engine::AssembleContext(*this, space, request, ctx_.options.clock->NowMillis());
  }
  Result<std::vector<ProvenanceStep>> Provenance(const std::string& space, MemoryId id) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Provenance(id);
  }
  Result<UserPage> ListUsers(const std::string& space, const std::string& cursor,
                             int limit) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->ListUsers(cursor, limit);
  }

  Result<std::vector<Job>> ListJobs(const std::string& space, std::optional<JobState> state,
                                    int limit) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->ListJobs(state, limit);
  }
  Result<int64_t> RetryJobs(const std::string& space, int64_t job_id) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->RetryJobs(job_id);
  }
  Result<JobStats> GetJobStats(const std::string& space) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->GetJobStats();
  }
  Status RunJobs(const std::string& space, bool summaries_now, const Progress& progress) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->RunJobs(/*flush=*/true, summaries_now, progress);
  }
  Result<MaintenanceReport> Maintain(const std::string& space) override {
    MNEMO_ASSIGN_OR_RETURN(auto s, Get(space));
    return s->Maintain();
  }

  Status WaitForIndexing() override {
    for (;;) {
      bool pending = false;
      for (auto& s : OpenSpaces()) pending = pending || s->HasPendingIndexWork();
      if (!pending) return Status::Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

 private:
  struct Entry {
    std::shared_ptr<engine::Space> space;
    std::list<std::string>::iterator lru;
  };

  std::string SpaceDir(const std::string& name) const { return dir_ + "/spaces/" + name; }

  // Requires spaces_mu_.
  void Insert(const std::string& name, std::shared_ptr<engine::Space> space) {
    lru_.push_front(name);
    spaces_[name] = Entry{std::move(space), lru_.begin()};
    while (spaces_.size() > ctx_.options.max_open_spaces && !lru_.empty()) {
      auto victim = spaces_.find(lru_.back());
      lru_.pop_back();
      // Closing (and snapshotting) happens when the last in-flight call lets go.
      spaces_.erase(victim);
    }
  }

  Result<std::shared_ptr<engine::Space>> Get(const std::string& name) {
    MNEMO_RETURN_IF_ERROR(ValidateSpaceName(name));
    std::lock_guard<std::mutex> l(spaces_mu_);
    auto it = spaces_.find(name);
    if (it != spaces_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.space;
    }
    MNEMO_ASSIGN_OR_RETURN(auto opened, engine::Space::Open(SpaceDir(name), name, false, &ctx_));
    std::shared_ptr<engine::Space> space(std::move(opened));
    Insert(name, space);
    return space;
  }

  std::vector<std::shared_ptr<engine::Space>> OpenSpaces() {
    std::lock_guard<std::mutex> l(spaces_mu_);
    std::vector<std::shared_ptr<engine::Space>> out;
    for (auto& [name, e] : spaces_) out.push_back(e.space);
    return out;
  }

  // Moves pending vectors into the HNSW graphs, checkpoints the spaces' WALs and writes
  // periodic snapshots, in small slices so that every space makes progress.
  void IndexerLoop() {
    constexpr size_t kSlice = 1024;
    for (;;) {
      {
        std::unique_lock<std::mutex> l(indexer_mu_);
        indexer_cv_.wait_for(l, std::chrono::seconds(1),
                             [this] { return stopping_ || indexer_wakeups_ > 0; });
        if (stopping_) return;
        indexer_wakeups_ = 0;
      }
      bool more = true;
      while (more) {
        more = false;
        // While writes keep coming, the graph is built by this thread alone and leaves the
        // other cores to them (a write's vector is searchable in the pending tail
        // meanwhile); once they pause, by index_threads threads.
        const auto since_write =
            std::chrono::steady_clock::now().time_since_epoch().count() - last_write_.load();
        const int threads =
            std::chrono::steady_clock::duration(since_write) < std::chrono::milliseconds(250)
                ? 1
                : ctx_.options.index_threads;
        for (auto& space : OpenSpaces()) {
          if (space->IndexSome(kSlice, threads) > 0) more = true;
          if (Status s = space->CheckpointWal(); !s.ok()) {
            ctx_.options.logger(LogLevel::kWarning, s.ToString());
          }
          if (space->SnapshotDue(static_cast<int64_t>(ctx_.options.snapshot_every))) {
            Status s = space->Snapshot(/*min_changes=*/1);
            if (!s.ok())
              ctx_.options.logger(LogLevel::kWarning,
                                  "snapshot of space '" + space->name() + "': " + s.ToString());
          }
        }
        std::lock_guard<std::mutex> l(indexer_mu_);
        if (stopping_) return;
      }
    }
  }

  // Runs the open spaces' ready pipeline jobs (extraction, consolidation, links) and their
  // due lifecycle maintenance. Checks every 200 ms: jobs are durable, so latency here is
  // lag, never loss.
  void PipelineLoop() {
    for (;;) {
      {
        std::unique_lock<std::mutex> l(indexer_mu_);
        indexer_cv_.wait_for(l, std::chrono::milliseconds(200), [this] { return stopping_; });
        if (stopping_) return;
      }
      for (auto& space : OpenSpaces()) {
        if (space->MaintenanceDue()) {
          auto r = space->Maintain();
          if (!r.ok())
            ctx_.options.logger(
                LogLevel::kWarning,
                "lifecycle maintenance of space '" + space->name() + "': " + r.status().ToString());
        } else if (space->RecallsDue()) {
          auto r = space->SaveRecalls();
          if (!r.ok())
            ctx_.options.logger(
                LogLevel::kWarning,
                "saving the recalls of space '" + space->name() + "': " + r.status().ToString());
        }
        if (!space->MayHaveReadyJobs()) continue;
        Status s = space->RunJobs(/*flush=*/false);
        if (!s.ok())
          ctx_.options.logger(LogLevel::kWarning,
                              "pipeline of space '" + space->name() + "': " + s.ToString());
        std::lock_guard<std::mutex> l(indexer_mu_);
        if (stopping_) return;
      }
    }
  }

  const std::string dir_;
  engine::SpaceContext ctx_;
  std::unique_ptr<util::FileLock> lock_;

  std::mutex spaces_mu_;
  std::unordered_map<std::string, Entry> spaces_;  // protected by spaces_mu_
  std::list<std::string> lru_;                     // protected by spaces_mu_; front = newest

  std::mutex indexer_mu_;
  std::condition_variable indexer_cv_;
  bool stopping_ = false;  // protected by indexer_mu_
  std::atomic<bool> closing_{false};
  // steady_clock ticks of the last write handed to an index.
  std::atomic<std::chrono::steady_clock::rep> last_write_{0};
  int64_t indexer_wakeups_ = 0;  // protected by indexer_mu_
  std::thread indexer_;
  std::thread pipeline_;  // after everything it uses
};

}  // namespace

std::shared_ptr<Clock> SystemClock() {
  static std::shared_ptr<Clock> clock = std::make_shared<WallClock>();
  return clock;
}

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& dir, const Options& options) {
  if (dir.empty()) return Status::InvalidArgument("the data directory path is empty");
  const std::string marker = dir + "/" + kMarkerName;
  if (!util::PathExists(marker)) {
    if (!options.create_if_missing) {
      return Status::FailedPrecondition("no mnemo data directory at " + dir +
                                        " (create one with: mnemo --data " + dir + " init)");
    }
    if (util::PathExists(dir)) {
      MNEMO_ASSIGN_OR_RETURN(auto entries, util::ListDirectories(dir));
      if (!entries.empty()) {
        return Status::FailedPrecondition(dir + " exists and is not a mnemo data directory");
      }
    }
    MNEMO_RETURN_IF_ERROR(util::CreatePrivateDirs(dir));
    MNEMO_RETURN_IF_ERROR(util::WriteFileAtomic(marker, kMarkerText));
  }
  MNEMO_ASSIGN_OR_RETURN(std::string text, util::ReadFile(marker));
  if (text != kMarkerText) {
    return Status::FailedPrecondition(marker +
                                      " is not a data directory marker this mnemo understands");
  }
  // The data directory and its spaces are owner-only (0700), whatever the umask or the
  // mode an older mnemo left: nothing inside is readable by other accounts.
  MNEMO_RETURN_IF_ERROR(util::CreatePrivateDirs(dir));
  MNEMO_RETURN_IF_ERROR(util::CreatePrivateDirs(dir + "/spaces"));
  MNEMO_ASSIGN_OR_RETURN(auto lock, util::FileLock::AcquireDirectory(dir));
  engine::SpaceContext ctx;
  ctx.options = options;
  if (!ctx.options.embedder) ctx.options.embedder = embed::NewBuiltinEmbedder();
  if (!ctx.options.clock) ctx.options.clock = SystemClock();
  if (!ctx.options.logger) ctx.options.logger = StderrLogger;
  if (ctx.options.max_open_spaces == 0) ctx.options.max_open_spaces = 1;
  if (ctx.options.snapshot_every == 0) ctx.options.snapshot_every = 1;
  if (ctx.options.index_threads <= 0) {
    ctx.options.index_threads =
        static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 4));
  }
  return std::unique_ptr<Engine>(new EngineImpl(dir, std::move(ctx), std::move(lock)));
}

}  // namespace mnemo
