#include "store/job_store.h"

#include <nlohmann/json.hpp>

#include "store/sql_values.h"

namespace mnemo::store {
namespace {

constexpr const char* kJobColumns =
    "id, kind, state, user_id, session_id, payload, attempts, next_run_at, created_at, "
    "updated_at, last_error, calls, prompt_tokens, completion_tokens, derived";

Job JobFromRow(const Stmt& st) {
  Job j;
  j.id = st.Int(0);
  j.kind = static_cast<JobKind>(st.Int(1));
  j.state = static_cast<JobState>(st.Int(2));
  j.user_id = st.Text(3);
  j.session_id = st.Text(4);
  auto ids = nlohmann::json::parse(st.TextView(5), nullptr, /*allow_exceptions=*/false);
  if (ids.is_array()) {
    for (const auto& v : ids) {
      if (v.is_number_integer()) j.memories.push_back(v.get<int64_t>());
    }
  }
  j.attempts = static_cast<int>(st.Int(6));
  j.next_run_at = st.Int(7);
  j.created_at = st.Int(8);
  j.updated_at = st.Int(9);
  j.last_error = st.IsNull(10) ? "" : st.Text(10);
  j.calls = st.Int(11);
  j.prompt_tokens = st.Int(12);
  j.completion_tokens = st.Int(13);
  j.derived = st.Int(14);
  return j;
}

Result<std::vector<Job>> Collect(Stmt& st) {
  std::vector<Job> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(JobFromRow(st));
  }
  return out;
}

}  // namespace

Result<int64_t> InsertJob(Db& db, JobKind kind, const std::string& user, const std::string& session,
                          const std::vector<MemoryId>& memories, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("INSERT INTO jobs(kind, state, user_id, session_id, payload, items, "
                          "next_run_at, created_at, updated_at) VALUES(?," SQL_JOB_PENDING
                          ",?,?,?,?,?,?,?)"));
  st.Bind(1, static_cast<int64_t>(kind))
      .Bind(2, user)
      .Bind(3, session)
      .Bind(4, nlohmann::json(memories).dump())
      .Bind(5, static_cast<int64_t>(memories.size()))
      .Bind(6, now)
      .Bind(7, now)
      .Bind(8, now);
  MNEMO_RETURN_IF_ERROR(st.Run());
  return sqlite3_last_insert_rowid(db.raw());
}

Result<std::vector<Job>> ReadyJobs(Db& db, TimeMs now, int limit) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(std::string("SELECT ") + kJobColumns +
                                             " FROM jobs WHERE state=" SQL_JOB_PENDING
                                             " AND next_run_at<=? ORDER BY id "
                                             "LIMIT ?"));
  st.Bind(1, now).Bind(2, limit);
  return Collect(st);
}

Result<int64_t> CountReadyJobs(Db& db, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare("SELECT count(*) FROM jobs WHERE state=" SQL_JOB_PENDING " AND next_run_at<=?"));
  st.Bind(1, now);
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.Int(0) : 0;
}

Result<std::vector<Job>> ListJobs(Db& db, std::optional<JobState> state, int limit) {
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs";
  if (state) sql += " WHERE state=" + std::to_string(static_cast<int>(*state));
  sql += " ORDER BY id DESC LIMIT ?";
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(sql, false));
  st.Bind(1, limit);
  return Collect(st);
}

Result<std::optional<Job>> GetJob(Db& db, int64_t id) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id=?"));
  st.Bind(1, id);
  MNEMO_ASSIGN_OR_RETURN(auto jobs, Collect(st));
  if (jobs.empty()) return std::optional<Job>();
  return std::optional<Job>(std::move(jobs[0]));
}

Status CompleteJob(Db& db, int64_t id, const JobOutcome& o, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare("UPDATE jobs SET state=" SQL_JOB_DONE ", attempts=attempts+1, updated_at=?, "
                 "last_error=NULL, calls=calls+?, prompt_tokens=prompt_tokens+?, "
                 "completion_tokens=completion_tokens+?, derived=derived+? WHERE id=?"));
  st.Bind(1, now).Bind(2, o.calls).Bind(3, o.prompt_tokens).Bind(4, o.completion_tokens);
  st.Bind(5, o.derived).Bind(6, id);
  return st.Run();
}

Status FailJob(Db& db, int64_t id, const JobOutcome& o, const std::string& error, bool dead,
               TimeMs retry_at, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("UPDATE jobs SET state=?, attempts=attempts+1, next_run_at=?, "
                          "updated_at=?, last_error=?, calls=calls+?, "
                          "prompt_tokens=prompt_tokens+?, completion_tokens=completion_tokens+? "
                          "WHERE id=?"));
  st.Bind(1, static_cast<int64_t>(dead ? JobState::kDead : JobState::kPending))
      .Bind(2, retry_at)
      .Bind(3, now)
      .Bind(4, error);
  st.Bind(5, o.calls).Bind(6, o.prompt_tokens).Bind(7, o.completion_tokens).Bind(8, id);
  return st.Run();
}

Status DeferJob(Db& db, int64_t id, const std::string& why, TimeMs run_at, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("UPDATE jobs SET next_run_at=?, updated_at=?, last_error=? WHERE id=?"));
  st.Bind(1, run_at).Bind(2, now).Bind(3, why).Bind(4, id);
  return st.Run();
}

Status WakeWindowJobs(Db& db, TimeMs now, bool quiet_too) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare("UPDATE jobs SET next_run_at=?, updated_at=? WHERE state=" SQL_JOB_PENDING " AND "
                 "next_run_at>? AND last_error IN (?,?)"));
  st.Bind(1, now).Bind(2, now).Bind(3, now).Bind(4, kWaitingForWindow);
  st.Bind(5, quiet_too ? kWaitingForQuiet : kWaitingForWindow);
  return st.Run();
}

Status ScheduleJob(Db& db, JobKind kind, const std::string& user, const std::string& session,
                   TimeMs run_at, const std::string& why, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt up, db.Prepare("UPDATE jobs SET next_run_at=?, updated_at=?, last_error=? WHERE "
                          "state=" SQL_JOB_PENDING " AND kind=? AND user_id=? AND session_id=?"));
  up.Bind(1, run_at).Bind(2, now).Bind(3, why).Bind(4, static_cast<int64_t>(kind));
  up.Bind(5, user).Bind(6, session);
  MNEMO_RETURN_IF_ERROR(up.Run());
  if (db.Changes() > 0) return Status::Ok();
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("INSERT INTO jobs(kind, state, user_id, session_id, payload, items, "
                          "next_run_at, created_at, updated_at, last_error) "
                          "VALUES(?," SQL_JOB_PENDING ",?,?,'[]',0,?,?,?,?)"));
  st.Bind(1, static_cast<int64_t>(kind)).Bind(2, user).Bind(3, session).Bind(4, run_at);
  st.Bind(5, now).Bind(6, now).Bind(7, why);
  return st.Run();
}

Status CancelJobs(Db& db, JobKind kind, bool dead_only, const std::string& why, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare(dead_only ? "UPDATE jobs SET state=" SQL_JOB_DONE ", updated_at=?, "
                                      "last_error=? WHERE kind=? AND state=" SQL_JOB_DEAD
                                    : "UPDATE jobs SET state=" SQL_JOB_DONE ", updated_at=?, "
                                      "last_error=? WHERE kind=? AND state<>" SQL_JOB_DONE));
  return st.Bind(1, now).Bind(2, why).Bind(3, static_cast<int64_t>(kind)).Run();
}

Status PostponeJobs(Db& db, JobKind kind, TimeMs run_at) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("UPDATE jobs SET next_run_at=? WHERE kind=? AND "
                                             "state=" SQL_JOB_PENDING));
  return st.Bind(1, run_at).Bind(2, static_cast<int64_t>(kind)).Run();
}

Result<bool> HasOpenEmbedJobs(Db& db) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT 1 FROM jobs WHERE kind IN (" SQL_JOB_EMBED "," SQL_JOB_REEMBED
                          ") AND state<>" SQL_JOB_DONE " LIMIT 1"));
  return st.Step();
}

Result<std::optional<TimeMs>> NextJobAfter(Db& db, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare("SELECT MIN(next_run_at) FROM jobs WHERE state=" SQL_JOB_PENDING
                                    " AND next_run_at>?"));
  st.Bind(1, now);
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.IsNull(0)) return std::optional<TimeMs>();
  return std::optional<TimeMs>(st.Int(0));
}

Result<int64_t> DeleteJobsOfUser(Db& db, const std::string& user) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("DELETE FROM jobs WHERE user_id=?"));
  st.Bind(1, user);
  MNEMO_RETURN_IF_ERROR(st.Run());
  return db.Changes();
}

Result<int64_t> RetryDeadJobs(Db& db, int64_t job_id, TimeMs now) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("UPDATE jobs SET state=" SQL_JOB_PENDING ", attempts=0, next_run_at=?, "
                          "updated_at=? WHERE state=" SQL_JOB_DEAD " AND (?=0 OR id=?)"));
  st.Bind(1, now).Bind(2, now).Bind(3, job_id).Bind(4, job_id);
  MNEMO_RETURN_IF_ERROR(st.Run());
  return db.Changes();
}

Status AddUsage(Db& db, const std::string& day, const std::string& provider, int64_t requests,
                int64_t calls, int64_t prompt_tokens, int64_t completion_tokens) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare("INSERT INTO usage(day, provider, requests, calls, prompt_tokens, "
                 "completion_tokens) VALUES(?,?,?,?,?,?) ON CONFLICT(day, provider) DO UPDATE "
                 "SET requests=requests+excluded.requests, calls=calls+excluded.calls, "
                 "prompt_tokens=prompt_tokens+excluded.prompt_tokens, "
                 "completion_tokens=completion_tokens+excluded.completion_tokens"));
  st.Bind(1, day).Bind(2, provider).Bind(3, requests).Bind(4, calls);
  st.Bind(5, prompt_tokens).Bind(6, completion_tokens);
  return st.Run();
}

Result<int64_t> TokensOnDay(Db& db, const std::string& day) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage "
                          "WHERE day=?"));
  st.Bind(1, day);
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.Int(0) : 0;
}

Result<JobStats> ReadJobStats(Db& db, const std::string& today) {
  JobStats s;
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT state, COUNT(*), SUM(CASE WHEN kind=" SQL_JOB_EXTRACT
                          " THEN items ELSE 0 END), "
                          "SUM(CASE WHEN kind=" SQL_JOB_EXTRACT " THEN derived ELSE 0 END), "
                          "SUM(calls), SUM(prompt_tokens), SUM(completion_tokens), "
                          "SUM(kind IN (" SQL_JOB_EMBED "," SQL_JOB_REEMBED ")), "
                          "SUM(CASE WHEN kind IN (" SQL_JOB_EMBED "," SQL_JOB_REEMBED ") THEN "
                          "derived ELSE 0 END), SUM(kind=" SQL_JOB_SUMMARIZE ") "
                          "FROM jobs GROUP BY state"));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const auto state = static_cast<JobState>(st.Int(0));
    const int64_t n = st.Int(1);
    if (state == JobState::kPending) {
      s.pending = n;
      s.embed_pending = st.Int(7);
      s.summaries_pending = st.Int(9);
    }
    if (state == JobState::kDead) s.dead = n;
    if (state == JobState::kDone) {
      s.done = n;
      s.turns = st.Int(2);
      s.derived = st.Int(3);
    }
    s.embedded += st.Int(8);
    s.calls += st.Int(4);
    s.prompt_tokens += st.Int(5);
    s.completion_tokens += st.Int(6);
  }
  MNEMO_ASSIGN_OR_RETURN(s.tokens_today, TokensOnDay(db, today));
  return s;
}

}  // namespace mnemo::store
