// The background pipeline of a space: episodes -> extract (rules or chat model) ->
// consolidate (add / supersede / merge / noop) -> link. See docs/pipeline.md. This file
// runs the jobs (reads them, groups them into session windows, extracts); the write side
// is pipeline_apply.cc.
//
// Durability: a write enqueues its extraction jobs in the write's own transaction; a
// round of job groups commits its derived memories, links, history and the jobs' move to
// "done" in one transaction. A crash before that commit leaves the jobs pending and
// nothing derived; a crash after it leaves them done. Either way nothing is lost or
// duplicated.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "engine/pipeline_internal.h"
#include "store/derived_store.h"
#include "store/memory_store.h"
#include "util/json_codec.h"
#include "util/time_util.h"
#include "write/llm_extract.h"

namespace mnemo::engine {

namespace {

using pipeline::Day;

constexpr size_t kMaxJobItems = 64;     // episodes per job
constexpr int kReadyBatch = 256;        // jobs read per round
constexpr int kKnownForModel = 30;      // known memories shown to the model per window
constexpr int kCorrectableSlots = 256;  // newest slot memories a correction may take back
// Episodes whose derivations one transaction writes: bounds how long the pipeline holds
// the write lock (a write waiting behind it waits for one such transaction, not the
// backlog), while sparing an fsync per session window.
constexpr size_t kApplyEpisodes = 256;
constexpr int64_t kDayMs = 86400000;

write::Turn ToTurn(const Memory& m) {
  return write::Turn{m.id, m.session_id, m.role, m.speaker, m.text, m.event_time, m.user_id, ""};
}

bool Derivable(const Memory& m) {
  return m.kind == Kind::kEpisode && m.origin != Origin::kDerived && m.role != "system" &&
         m.role != "tool" && m.quarantine.empty();
}

}  // namespace

void Space::WakeJobsAt(TimeMs t) {
  TimeMs cur = next_job_check_.load();
  while (t < cur && !next_job_check_.compare_exchange_weak(cur, t)) {
  }
}

Result<bool> Space::EnqueueExtraction(store::Db& db, const std::vector<Memory>& written,
                                      TimeMs now) {
  if (!pipeline_->enabled) return false;
  // Jobs hold the episodes of one user and session, in order, at most kMaxJobItems each.
  std::map<std::pair<std::string, std::string>, std::vector<MemoryId>> groups;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& m : written) {
    if (!Derivable(m)) continue;
    auto key = std::make_pair(m.user_id, m.session_id);
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) order.push_back(key);
    it->second.push_back(m.id);
  }
  for (const auto& key : order) {
    const auto& ids = groups[key];
    // Sleep-time summary: once the session has been quiet for summary_wait_ms.
    if (pipeline_->summaries && !key.second.empty()) {
      MNEMO_RETURN_IF_ERROR(store::ScheduleJob(db, JobKind::kSummarize, key.first, key.second,
                                               now + pipeline_->summary_wait_ms,
                                               store::kWaitingForQuiet, now));
    }
    for (size_t i = 0; i < ids.size(); i += kMaxJobItems) {
      std::vector<MemoryId> part(
          ids.begin() + static_cast<ptrdiff_t>(i),
          ids.begin() + static_cast<ptrdiff_t>(std::min(ids.size(), i + kMaxJobItems)));
      MNEMO_RETURN_IF_ERROR(
          store::InsertJob(db, JobKind::kExtract, key.first, key.second, part, now).status());
    }
  }
  return !order.empty();
}

Status Space::RunJobs(bool flush, bool wake_summaries, const Progress& progress) {
  std::lock_guard<std::mutex> run_lock(pipeline_mu_);
  int64_t done = 0, total = 0;
  auto finished = [&](size_t jobs) {
    done += static_cast<int64_t>(jobs);
    if (progress) progress(done, std::max(done, total));
  };
  for (;;) {
    if (flush) {
      // A flush does not wait for windows to fill, including windows deferred earlier,
      // nor for sessions to be quiet (summaries scheduled by this run's jobs included).
      std::lock_guard<std::mutex> lock(write_mu_);
      MNEMO_RETURN_IF_ERROR(store::WakeWindowJobs(*writer_, Now(), wake_summaries));
    }
    const TimeMs now = Now();
    // Claim the "check" before reading, so a job enqueued meanwhile wakes us again.
    next_job_check_ = std::numeric_limits<TimeMs>::max();
    std::vector<Job> ready;
    {
      MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
      MNEMO_ASSIGN_OR_RETURN(ready, store::ReadyJobs(*reader, now, kReadyBatch));
      if (progress) {
        MNEMO_ASSIGN_OR_RETURN(int64_t waiting, store::CountReadyJobs(*reader, now));
        total = done + waiting;
        progress(done, total);
      }
      // The next wake-up: the earliest deferred job.
      MNEMO_ASSIGN_OR_RETURN(auto next, store::NextJobAfter(*reader, now));
      if (next) WakeJobsAt(*next);
    }
    if (ready.empty()) {
      // A re-embed enqueues what is still missing (then runs it), or switches.
      MNEMO_ASSIGN_OR_RETURN(bool more, FinishReembed());
      if (!more) return Status::Ok();
      continue;
    }
    // Embed and reembed jobs run one at a time (embed_jobs.cc).
    std::vector<Job> embed_jobs;
    // Summarize jobs run after the round's extraction (space_summaries.cc).
    std::vector<Job> summarize_jobs;
    // Consecutive jobs of one user and session form a group (a session window).
    const size_t window =
        std::max<size_t>(kMaxJobItems, static_cast<size_t>(std::max(1, pipeline_->window_turns)));
    std::map<std::pair<std::string, std::string>, std::vector<std::vector<Job>>> groups;
    for (auto& job : ready) {
      if (job.kind == JobKind::kSummarize) {
        summarize_jobs.push_back(std::move(job));
        continue;
      }
      if (job.kind != JobKind::kExtract) {
        embed_jobs.push_back(std::move(job));
        continue;
      }
      auto& list = groups[{job.user_id, job.session_id}];
      size_t items = 0;
      if (!list.empty()) {
        for (const auto& j : list.back()) items += j.memories.size();
      }
      if (list.empty() || items + job.memories.size() > window) list.emplace_back();
      list.back().push_back(std::move(job));
    }
    std::vector<ExtractedGroup> extracted;
    size_t episodes = 0;
    auto apply = [&]() -> Status {
      if (extracted.empty()) return Status::Ok();
      Status st = ApplyGroups(extracted);
      extracted.clear();
      episodes = 0;
      return st;
    };
    for (auto& [key, list] : groups) {
      for (auto& group : list) {
        if (Stopping()) return apply();  // the rest stays pending for the next start
        MNEMO_ASSIGN_OR_RETURN(auto g, ExtractGroup(group, flush));
        finished(group.size());
        if (!g) continue;  // deferred or failed (recorded)
        episodes += g->episodes;
        extracted.push_back(std::move(*g));
        if (episodes >= kApplyEpisodes) MNEMO_RETURN_IF_ERROR(apply());
      }
    }
    MNEMO_RETURN_IF_ERROR(apply());
    for (const auto& job : embed_jobs) {
      if (Stopping()) return Status::Ok();
      MNEMO_RETURN_IF_ERROR(RunEmbedJob(job));
      finished(1);
    }
    for (const auto& job : summarize_jobs) {
      if (Stopping()) return Status::Ok();
      MNEMO_RETURN_IF_ERROR(RunSummarizeJob(job));
      finished(1);
    }
  }
}

Status Space::FailJobs(const std::vector<Job>& jobs, const Status& error,
                       const store::JobOutcome& usage) {
  const TimeMs now = Now();
  static thread_local std::mt19937_64 rng(std::random_device{}());
  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  store::Db& db = txn.db();
  bool first = true;
  for (const auto& job : jobs) {
    const int attempts = job.attempts + 1;
    const bool dead = attempts >= pipeline_->max_attempts;
    // Exponential backoff with jitter: [50%, 100%] of min(max, initial * 2^(attempts-1)).
    const double base = std::min<double>(
        static_cast<double>(pipeline_->retry_max_ms),
        static_cast<double>(pipeline_->retry_initial_ms) * std::pow(2.0, attempts - 1));
    const auto delay =
        static_cast<TimeMs>(base * std::uniform_real_distribution<double>(0.5, 1.0)(rng));
    const std::string why =
        error.ToString() +
        (dead ? " (gave up after " + std::to_string(attempts) + " attempts)" : "");
    MNEMO_RETURN_IF_ERROR(store::FailJob(db, job.id, first ? usage : store::JobOutcome{}, why, dead,
                                         now + delay, now));
    if (!dead) WakeJobsAt(now + delay);
    first = false;
  }
  if (usage.calls > 0 && ctx_->options.chat_model) {
    MNEMO_RETURN_IF_ERROR(store::AddUsage(db, Day(now), ctx_->options.chat_model->id(), usage.calls,
                                          usage.calls, usage.prompt_tokens,
                                          usage.completion_tokens));
  }
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  Log(LogLevel::kWarning, "space '" + name_ + "': job " + std::to_string(jobs.front().id) +
                              " failed: " + error.ToString());
  return Status::Ok();
}

Result<bool> Space::DeferIfBudgetSpent(const std::vector<Job>& jobs, int64_t tokens_today,
                                       TimeMs now) {
  if (pipeline_->daily_token_budget <= 0 || tokens_today < pipeline_->daily_token_budget) {
    return false;
  }
  const TimeMs tomorrow = (now / kDayMs + 1) * kDayMs;
  std::lock_guard<std::mutex> lock(write_mu_);
  for (const auto& j : jobs) {
    MNEMO_RETURN_IF_ERROR(store::DeferJob(
        *writer_, j.id,
        "daily token budget of " + std::to_string(pipeline_->daily_token_budget) + " spent (" +
            std::to_string(tokens_today) + " tokens today); waiting for " + Day(tomorrow),
        tomorrow, now));
  }
  WakeJobsAt(tomorrow);
  return true;
}

Result<std::string> Space::AskedBefore(store::Db& db, const Memory& m) {
  if (m.role != "user" || m.session_id.empty()) return std::string();
  MNEMO_ASSIGN_OR_RETURN(auto prev, store::LastInSession(db, m.user_id, m.session_id, m.id));
  if (!prev) return std::string();
  MNEMO_ASSIGN_OR_RETURN(auto before, store::GetMemory(db, *prev));
  if (!before || before->role != "assistant" || before->text.find('?') == std::string::npos ||
      before->text.size() > 2000) {
    return std::string();
  }
  return before->text;
}

Status Space::ResolveCorrections(const std::string& user, std::vector<Derivation>* derivations) {
  if (std::none_of(derivations->begin(), derivations->end(), [](const Derivation& d) {
        return !d.candidate.corrects.empty() || !d.candidate.correction.empty();
      })) {
    return Status::Ok();
  }
  // What the user holds: this group's own derivations (newest last), then the store's.
  std::vector<write::SlotValue> stored;
  {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    MNEMO_ASSIGN_OR_RETURN(auto rows, store::DerivedWithSlots(*reader, user, kCorrectableSlots));
    for (const Memory& m : rows) {
      const write::Neighbour n = pipeline::NeighbourOf(m, 0);
      stored.push_back({n.slot, n.value, m.text, m.kind});
    }
  }
  std::vector<Derivation> out;
  for (auto& d : *derivations) {
    if (d.candidate.corrects.empty() && d.candidate.correction.empty()) {
      out.push_back(std::move(d));
      continue;
    }
    std::vector<write::SlotValue> known;
    for (auto it = out.rbegin(); it != out.rend(); ++it) {
      const write::Candidate& c = it->candidate;
      if (!c.slot.empty()) known.push_back({c.slot, c.value, c.text, c.kind});
    }
    known.insert(known.end(), stored.begin(), stored.end());
    for (auto& c : write::ResolveCorrection(d.candidate, known)) {
      // "I'm allergic to walnuts, not peanuts": the sentence said allergy:walnuts already.
      const bool said = std::any_of(out.begin(), out.end(), [&](const Derivation& o) {
        return o.candidate.slot == c.slot && o.candidate.value == c.value &&
               o.candidate.sources == c.sources;
      });
      if (said) continue;
      Derivation r = d;
      r.candidate = std::move(c);
      out.push_back(std::move(r));
    }
  }
  *derivations = std::move(out);
  return Status::Ok();
}

Result<std::optional<Space::ExtractedGroup>> Space::ExtractGroup(const std::vector<Job>& jobs,
                                                                 bool flush) {
  std::optional<ExtractedGroup> none;
  const TimeMs now = Now();
  const Job& first = jobs.front();
  // The episodes, as they are now (purged, retired or quarantined ones are skipped).
  std::vector<Memory> episodes;
  {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    for (const auto& job : jobs) {
      for (MemoryId id : job.memories) {
        MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(*reader, id));
        if (m && m->state == State::kActive && m->quarantine.empty())
          episodes.push_back(std::move(*m));
      }
    }
  }
  const ChatModel* model = pipeline_->use_model ? ctx_->options.chat_model.get() : nullptr;
  std::vector<Derivation> derivations;
  store::JobOutcome usage;
  if (model != nullptr && !episodes.empty()) {
    // A partial session window waits for more turns, up to window_wait_ms.
    TimeMs oldest = first.created_at;
    for (const auto& j : jobs) oldest = std::min(oldest, j.created_at);
    if (!flush && episodes.size() < static_cast<size_t>(pipeline_->window_turns) &&
        now - oldest < pipeline_->window_wait_ms) {
      std::lock_guard<std::mutex> lock(write_mu_);
      for (const auto& j : jobs) {
        MNEMO_RETURN_IF_ERROR(store::DeferJob(*writer_, j.id, store::kWaitingForWindow,
                                              oldest + pipeline_->window_wait_ms, now));
      }
      WakeJobsAt(oldest + pipeline_->window_wait_ms);
      return none;
    }
    int64_t today = 0;
    std::vector<write::Neighbour> known;
    {
      MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
      MNEMO_ASSIGN_OR_RETURN(today, store::TokensOnDay(*reader, Day(now)));
      ListRequest lr;
      lr.filter.user_id = first.user_id;
      lr.filter.kinds = {Kind::kFact, Kind::kPreference, Kind::kProcedure};
      lr.limit = kKnownForModel;
      lr.descending = true;
      MNEMO_ASSIGN_OR_RETURN(auto rows,
                             store::ListMemories(*reader, lr.filter, 0, true, kKnownForModel));
      for (const auto& m : rows) known.push_back(pipeline::NeighbourOf(m, 0));
    }
    MNEMO_ASSIGN_OR_RETURN(bool deferred, DeferIfBudgetSpent(jobs, today, now));
    if (deferred) return none;
    // One call per session window of at most window_turns turns.
    const size_t per_call = static_cast<size_t>(std::max(1, pipeline_->window_turns));
    for (size_t from = 0; from < episodes.size(); from += per_call) {
      std::vector<write::Turn> turns;
      for (size_t i = from; i < std::min(episodes.size(), from + per_call); ++i)
        turns.push_back(ToTurn(episodes[i]));
      write::ModelUsage spent;
      auto run = write::ExtractWithModel(*model, turns, known, &spent);
      usage.calls += spent.calls;
      usage.prompt_tokens += spent.prompt_tokens;
      usage.completion_tokens += spent.completion_tokens;
      if (!run.ok()) {
        MNEMO_RETURN_IF_ERROR(FailJobs(jobs, run.status(), usage));
        return none;
      }
      for (auto& mc : run->candidates) {
        Derivation d;
        d.candidate = std::move(mc.candidate);
        d.model_supersedes = mc.supersedes;
        d.model_same_as = mc.same_as;
        d.extractor = model->id();
        derivations.push_back(std::move(d));
      }
    }
  } else {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    for (const auto& m : episodes) {
      write::Turn turn = ToTurn(m);
      MNEMO_ASSIGN_OR_RETURN(turn.asked, AskedBefore(*reader, m));
      for (auto& c : write::ExtractFromTurn(turn)) {
        Derivation d;
        d.candidate = std::move(c);
        d.extractor = "rules";
        derivations.push_back(std::move(d));
      }
    }
  }
  for (auto& d : derivations) write::NormaliseSlotValue(&d.candidate);
  MNEMO_RETURN_IF_ERROR(ResolveCorrections(first.user_id, &derivations));
  // Session and speaker come from the first source turn.
  std::unordered_map<MemoryId, const Memory*> by_id;
  for (const auto& m : episodes) by_id[m.id] = &m;
  for (auto& d : derivations) {
    if (d.candidate.sources.empty()) continue;
    auto it = by_id.find(d.candidate.sources.front());
    if (it == by_id.end()) continue;
    d.session = it->second->session_id;
    d.speaker = it->second->speaker;
    if (!d.candidate.event_time) d.candidate.event_time = it->second->event_time;
  }
  ExtractedGroup g;
  g.jobs = jobs;
  g.derivations = std::move(derivations);
  g.usage = usage;
  g.episodes = episodes.size();
  return std::optional<ExtractedGroup>(std::move(g));
}

Result<std::vector<Job>> Space::ListJobs(std::optional<JobState> state, int limit) {
  if (limit < 1 || limit > ctx_->options.max_list_limit) {
    return Status::InvalidArgument("limit must be between 1 and " +
                                   std::to_string(ctx_->options.max_list_limit))
        .WithField("limit");
  }
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  return store::ListJobs(*reader, state, limit);
}

Result<int64_t> Space::RetryJobs(int64_t job_id) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (job_id != 0) {
    MNEMO_ASSIGN_OR_RETURN(auto job, store::GetJob(*writer_, job_id));
    if (!job) {
      return Status::NotFound("job " + std::to_string(job_id) + " does not exist in space '" +
                              name_ + "'")
          .WithField("id");
    }
    if (job->state != JobState::kDead) {
      return Status::FailedPrecondition("job " + std::to_string(job_id) + " is " +
                                        std::string(JobStateName(job->state)) +
                                        "; only dead jobs can be retried")
          .WithField("id");
    }
  }
  MNEMO_ASSIGN_OR_RETURN(int64_t n, store::RetryDeadJobs(*writer_, job_id, Now()));
  if (n > 0) WakeJobsAt(Now());
  return n;
}

Result<JobStats> Space::GetJobStats() {
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  MNEMO_ASSIGN_OR_RETURN(auto stats, store::ReadJobStats(*reader, Day(Now())));
  stats.daily_token_budget = pipeline_->daily_token_budget;
  const ChatModel* model = pipeline_->use_model ? ctx_->options.chat_model.get() : nullptr;
  stats.extractor = !pipeline_->enabled ? "off" : model ? model->id() : "rules";
  return stats;
}

Result<std::vector<ProvenanceStep>> Space::Provenance(MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  MNEMO_ASSIGN_OR_RETURN(auto root, store::GetMemory(*reader, id));
  if (!root) return Missing(*reader, id);
  std::vector<ProvenanceStep> out;
  std::set<MemoryId> seen{id};
  out.push_back(ProvenanceStep{std::move(*root), 0, 0});
  for (size_t i = 0; i < out.size() && out.size() < 1000; ++i) {
    const std::vector<MemoryId> sources = out[i].memory.sources;
    for (MemoryId src : sources) {
      if (!seen.insert(src).second) continue;
      MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(*reader, src));
      if (m) out.push_back(ProvenanceStep{std::move(*m), out[i].memory.id, out[i].depth + 1});
    }
  }
  return out;
}

Result<std::vector<MemoryId>> Space::DerivedFrom(store::Db& db, MemoryId id) {
  std::vector<MemoryId> out;
  std::set<MemoryId> seen{id};
  std::vector<MemoryId> frontier{id};
  while (!frontier.empty() && out.size() < 10000) {
    MNEMO_ASSIGN_OR_RETURN(auto links, store::LinksTouching(db, frontier, LinkType::kDerivedFrom));
    frontier.clear();
    for (const auto& l : links) {
      // from = the derived memory, to = its source.
      if (seen.count(l.to) && seen.insert(l.from).second) {
        out.push_back(l.from);
        frontier.push_back(l.from);
      }
    }
  }
  return out;
}

}  // namespace mnemo::engine
