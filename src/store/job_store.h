// The SQL of the background pipeline: the jobs table and per-day provider usage.
//
// Like memory_store.h, these functions do not open transactions: the pipeline commits a
// job's effects and its completion in one transaction (at-least-once, no duplicates).
//
// Thread safety: each function uses the Db it is given; see store/sqlite.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mnemo/engine.h"
#include "store/sqlite.h"

namespace mnemo::store {

Result<int64_t> InsertJob(Db& db, JobKind kind, const std::string& user, const std::string& session,
                          const std::vector<MemoryId>& memories, TimeMs now);
// Pending jobs whose next_run_at <= now, oldest first.
Result<std::vector<Job>> ReadyJobs(Db& db, TimeMs now, int limit);
Result<std::vector<Job>> ListJobs(Db& db, std::optional<JobState> state, int limit);
Result<std::optional<Job>> GetJob(Db& db, int64_t id);

// What one attempt of a job cost and produced.
struct JobOutcome {
  int64_t calls = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t derived = 0;
};
Status CompleteJob(Db& db, int64_t id, const JobOutcome& o, TimeMs now);
// Records a failed attempt: back to pending at `retry_at`, or dead when `dead`.
Status FailJob(Db& db, int64_t id, const JobOutcome& o, const std::string& error, bool dead,
               TimeMs retry_at, TimeMs now);
// Postpones a job without counting an attempt (budget exhausted, window not full).
Status DeferJob(Db& db, int64_t id, const std::string& why, TimeMs run_at, TimeMs now);
// The reason DeferJob records for a job waiting for its session window to fill.
inline constexpr char kWaitingForWindow[] = "waiting for a full session window";
// The reason a summarize job records while it waits for its session to be quiet
// (PipelineOptions::summary_wait_ms).
inline constexpr char kWaitingForQuiet[] = "waiting for the session to be quiet";
// Makes the jobs waiting for their session window, and (with `quiet_too`) the summarize
// jobs waiting for quiet, ready at `now` (a flush).
Status WakeWindowJobs(Db& db, TimeMs now, bool quiet_too);
// Makes sure one pending job of `kind` exists for (user, session), ready at `run_at`:
// inserts it (payload []), or moves the pending one to `run_at` (a later write pushes
// the run back). Its last_error reads `why`, so that a flush can find it.
Status ScheduleJob(Db& db, JobKind kind, const std::string& user, const std::string& session,
                   TimeMs run_at, const std::string& why, TimeMs now);
// Marks the jobs of `kind` that are not done (only the dead ones, with `dead_only`) done,
// with `why` as their last_error: work that a later decision made moot.
Status CancelJobs(Db& db, JobKind kind, bool dead_only, const std::string& why, TimeMs now);
// Moves every pending job of `kind` to `run_at`.
Status PostponeJobs(Db& db, JobKind kind, TimeMs run_at);
// Whether an embed or reembed job is pending or dead.
Result<bool> HasOpenEmbedJobs(Db& db);
// How many pending jobs are ready at `now`.
Result<int64_t> CountReadyJobs(Db& db, TimeMs now);
// The earliest next_run_at after `now` among pending jobs (the pipeline's next wake-up).
Result<std::optional<TimeMs>> NextJobAfter(Db& db, TimeMs now);
// Deletes every job (any state) of `user`; returns how many.
Result<int64_t> DeleteJobsOfUser(Db& db, const std::string& user);
// Dead -> pending (job_id 0: all dead jobs). Returns the number moved.
Result<int64_t> RetryDeadJobs(Db& db, int64_t job_id, TimeMs now);

Status AddUsage(Db& db, const std::string& day, const std::string& provider, int64_t requests,
                int64_t calls, int64_t prompt_tokens, int64_t completion_tokens);
Result<int64_t> TokensOnDay(Db& db, const std::string& day);
Result<JobStats> ReadJobStats(Db& db, const std::string& today);

}  // namespace mnemo::store
