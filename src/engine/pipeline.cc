// The background pipeline of a space: episodes -> extract (rules or chat model) ->
// consolidate (add / supersede / merge / noop) -> link. See docs/pipeline.md.
//
// Durability: a write enqueues its extraction jobs in the write's own transaction; a
// group of jobs commits its derived memories, links, history and its move to "done" in
// one transaction. A crash before that commit leaves the jobs pending and nothing
// derived; a crash after it leaves them done. Either way nothing is lost or duplicated.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "engine/space.h"
#include "index/quantize.h"
#include "store/memory_store.h"
#include "util/json_codec.h"
#include "util/time_util.h"
#include "write/consolidate.h"
#include "write/extract_rules.h"
#include "write/llm_extract.h"

namespace mnemo::engine {

namespace {

constexpr size_t kMaxJobItems = 64;  // episodes per job: bounds one apply transaction
constexpr int kReadyBatch = 256;     // jobs read per round
constexpr int kNeighbours = 8;       // consolidation candidates per derived memory
constexpr int kKnownForModel = 30;   // known memories shown to the model per window
constexpr const char* kActor = "pipeline";
constexpr size_t kMaxDerivedTags = 16;    // tags of a derived memory (its key phrases)
constexpr size_t kEvolveTagsPerLink = 2;  // key phrases a new link may add to a neighbour
constexpr int kSameEntityLinks = 5;       // same_entity links per new memory

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

bool HasCaseless(const std::vector<std::string>& list, std::string_view item) {
  const std::string want = Lower(item);
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& x) { return Lower(x) == want; });
}
constexpr int64_t kDayMs = 86400000;

std::string Day(TimeMs t) { return util::FormatIso8601(t).substr(0, 10); }

write::Turn ToTurn(const Memory& m) {
  return write::Turn{m.id, m.session_id, m.role, m.speaker, m.text, m.event_time};
}

bool Derivable(const Memory& m) {
  return m.kind == Kind::kEpisode && m.origin != Origin::kDerived && m.role != "system" &&
         m.role != "tool";
}

std::string MemoryJsonText(const Memory& m) { return util::DumpJson(util::MemoryToJson(m)); }

// What the pipeline keeps in a derived memory's metadata, for later consolidation.
std::string DerivedMetadata(const write::Candidate& c, const std::string& extractor) {
  nlohmann::json j = nlohmann::json::object();
  j["extractor"] = extractor;
  if (!c.subject.empty()) j["subject"] = c.subject;
  if (!c.slot.empty()) {
    j["slot"] = c.slot;
    j["value"] = c.value;
    j["polarity"] = c.polarity;
  }
  if (!c.time_text.empty()) j["time_text"] = c.time_text;
  return j.dump();
}

write::Neighbour NeighbourOf(const Memory& m, double similarity) {
  write::Neighbour n;
  n.id = m.id;
  n.kind = m.kind;
  n.text = m.text;
  n.entities = m.entities;
  n.vector_similarity = similarity;
  n.time = m.valid_from.value_or(m.event_time.value_or(m.created_at));
  auto meta = nlohmann::json::parse(m.metadata, nullptr, false);
  if (meta.is_object()) {
    n.subject = meta.value("subject", "");
    n.slot = meta.value("slot", "");
    n.value = meta.value("value", "");
    n.polarity = meta.value("polarity", 1);
  }
  return n;
}

// Facts, preferences, procedures: what consolidation compares and links (episodes and
// summaries are neither merged with them nor linked to them by entity).
bool IsDerivedKind(Kind k) {
  return k == Kind::kFact || k == Kind::kPreference || k == Kind::kProcedure;
}

Filter DerivedOf(const std::string& user) {
  Filter f;
  f.user_id = user;
  f.kinds = {Kind::kFact, Kind::kPreference, Kind::kProcedure};
  return f;
}

}  // namespace

// One candidate on its way into the store.
struct Space::Derivation {
  write::Candidate candidate;
  MemoryId model_supersedes = 0;  // the model's own consolidation decision, if any
  MemoryId model_same_as = 0;
  std::string extractor;  // "rules" or the chat model id
  std::string session;
  std::string speaker;
  std::vector<float> vector;
};

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

Status Space::RunJobs(bool flush, bool wake_summaries) {
  std::lock_guard<std::mutex> run_lock(pipeline_mu_);
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
      // The next wake-up: the earliest deferred job.
      MNEMO_ASSIGN_OR_RETURN(store::Stmt st,
                             (*reader).Prepare("SELECT MIN(next_run_at) FROM jobs WHERE state=0 "
                                               "AND next_run_at>?"));
      st.Bind(1, now);
      MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row && !st.IsNull(0)) WakeJobsAt(st.Int(0));
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
    for (auto& [key, list] : groups) {
      for (auto& group : list) MNEMO_RETURN_IF_ERROR(RunJobGroup(group, flush));
    }
    for (const auto& job : embed_jobs) MNEMO_RETURN_IF_ERROR(RunEmbedJob(job));
    for (const auto& job : summarize_jobs) MNEMO_RETURN_IF_ERROR(RunSummarizeJob(job));
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

Status Space::RunJobGroup(const std::vector<Job>& jobs, bool flush) {
  const TimeMs now = Now();
  const Job& first = jobs.front();
  // The episodes, as they are now (purged or retired ones are skipped).
  std::vector<Memory> episodes;
  {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    for (const auto& job : jobs) {
      for (MemoryId id : job.memories) {
        MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(*reader, id));
        if (m && m->state == State::kActive) episodes.push_back(std::move(*m));
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
      return Status::Ok();
    }
    int64_t today = 0;
    std::vector<write::Neighbour> known;
    {
      MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
      MNEMO_ASSIGN_OR_RETURN(today, store::TokensOnDay(*reader, Day(now)));
      ListRequest lr;
      lr.filter = DerivedOf(first.user_id);
      lr.limit = kKnownForModel;
      lr.descending = true;
      MNEMO_ASSIGN_OR_RETURN(auto rows,
                             store::ListMemories(*reader, lr.filter, 0, true, kKnownForModel));
      for (const auto& m : rows) known.push_back(NeighbourOf(m, 0));
    }
    MNEMO_ASSIGN_OR_RETURN(bool deferred, DeferIfBudgetSpent(jobs, today, now));
    if (deferred) return Status::Ok();
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
      if (!run.ok()) return FailJobs(jobs, run.status(), usage);
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
    for (const auto& m : episodes) {
      for (auto& c : write::ExtractFromTurn(ToTurn(m))) {
        Derivation d;
        d.candidate = std::move(c);
        d.extractor = "rules";
        derivations.push_back(std::move(d));
      }
    }
  }
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
  return ApplyDerivations(jobs, derivations, usage);
}

Status Space::ApplyDerivations(const std::vector<Job>& jobs, std::vector<Derivation>& derivations,
                               const store::JobOutcome& usage) {
  // Drop what would not pass the write path's own checks (model output is untrusted).
  derivations.erase(std::remove_if(derivations.begin(), derivations.end(),
                                   [&](const Derivation& d) {
                                     return d.candidate.sources.empty() ||
                                            !ValidateText(d.candidate.text, "text").ok();
                                   }),
                    derivations.end());
  if (!derivations.empty()) {
    std::vector<std::string_view> texts;
    for (const auto& d : derivations) texts.push_back(d.candidate.text);
    std::vector<std::vector<float>> vecs;
    Status s = EmbedDerived(texts, &vecs);
    if (s.ok() && vecs.size() != texts.size()) s = Status::Internal("embedder returned too few");
    if (!s.ok()) return FailJobs(jobs, s.WithContext("embedding derived memories"), usage);
    for (size_t i = 0; i < vecs.size(); ++i) derivations[i].vector = std::move(vecs[i]);
  }

  const TimeMs now = Now();
  const std::string& user = jobs.front().user_id;
  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  store::Db& db = txn.db();
  std::vector<IndexChange>& changes = *txn.vector_changes();
  int64_t added = 0;
  TimeMs earliest_expiry = std::numeric_limits<TimeMs>::max();  // of the kind TTLs stamped
  int64_t derived = 0;
  // Writes `next` as a new version of `current`, with its reason in history.
  auto revise = [&](const Memory& current, Memory next, const std::string& reason) -> Status {
    next.version = current.version + 1;
    next.updated_at = now;
    MNEMO_RETURN_IF_ERROR(store::ReplaceMemory(db, current, next));
    return store::AppendHistory(db, HistoryEntry{current.id, next.version, HistoryOp::kUpdate,
                                                 MemoryJsonText(current), "", kActor, now, reason});
  };
  auto evolve = [&](MemoryId id, const Memory& from) -> Status {
    MNEMO_ASSIGN_OR_RETURN(auto current, store::GetMemory(db, id));  // as this job left it
    if (!current || current->state != State::kActive || !IsDerivedKind(current->kind))
      return Status::Ok();
    Memory next = *current;
    std::string added_tags;
    size_t n = 0;
    for (const auto& k : from.tags) {
      if (n == kEvolveTagsPerLink || next.tags.size() >= kMaxDerivedTags) break;
      if (HasCaseless(next.tags, k)) continue;
      next.tags.push_back(k);
      added_tags += (n++ ? ", " : "") + k;
    }
    if (n == 0) return Status::Ok();
    return revise(
        *current, next,
        "evolved: tags " + added_tags + " from related memory " + std::to_string(from.id));
  };
  auto link_same_entities = [&](const Memory& m, const std::string& subject) -> Status {
    std::map<MemoryId, std::vector<std::string>> found;
    for (const auto& e : m.entities) {
      if (Lower(e) == Lower(subject) || Lower(e) == Lower(user)) continue;
      MNEMO_ASSIGN_OR_RETURN(
          store::Stmt st,
          db.Prepare("SELECT id, entities FROM memories WHERE user_id=? AND kind IN (1,2,3) AND "
                     "state=0 AND id<>? AND entities IS NOT NULL AND EXISTS (SELECT 1 FROM "
                     "json_each(memories.entities) WHERE lower(value)=?) ORDER BY id DESC "
                     "LIMIT ?"));
      st.Bind(1, user).Bind(2, m.id).Bind(3, Lower(e)).Bind(4, kSameEntityLinks);
      for (;;) {
        MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        auto parsed = util::ParseJson(st.TextView(1));
        std::vector<std::string> entities;
        if (parsed.ok() && parsed->is_array()) {
          for (const auto& x : *parsed)
            if (x.is_string()) entities.push_back(x.get<std::string>());
        }
        found.emplace(st.Int(0), std::move(entities));
      }
    }
    std::vector<std::pair<MemoryId, double>> links;
    for (const auto& [id, entities] : found) {
      size_t shared = 0;
      for (const auto& e : m.entities) shared += HasCaseless(entities, e) ? 1 : 0;
      const size_t total = m.entities.size() + entities.size() - shared;
      links.emplace_back(id, total ? static_cast<double>(shared) / static_cast<double>(total) : 0);
    }
    std::sort(links.begin(), links.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first > b.first;
    });
    for (size_t i = 0; i < links.size() && i < static_cast<size_t>(kSameEntityLinks); ++i) {
      MNEMO_RETURN_IF_ERROR(store::InsertLink(db, Link{m.id, links[i].first, LinkType::kSameEntity,
                                                       std::round(links[i].second * 1000) / 1000}));
    }
    return Status::Ok();
  };
  for (auto& d : derivations) {
    const write::Candidate& c = d.candidate;
    const TimeMs when = c.event_time.value_or(now);
    // Neighbours: same slot, same text, and the nearest derived memories by vector.
    std::map<MemoryId, double> near;
    if (!c.slot.empty()) {
      MNEMO_ASSIGN_OR_RETURN(
          store::Stmt st,
          db.Prepare("SELECT id FROM memories WHERE user_id=? AND kind IN (1,2,3) AND state=0 "
                     "AND json_extract(metadata, '$.slot')=? LIMIT 16"));
      st.Bind(1, user).Bind(2, c.slot);
      for (;;) {
        MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        near.emplace(st.Int(0), 0.0);
      }
    }
    {
      MNEMO_ASSIGN_OR_RETURN(store::Stmt st,
                             db.Prepare("SELECT id FROM memories WHERE user_id=? AND kind IN "
                                        "(1,2,3) AND state=0 AND text=? LIMIT 4"));
      st.Bind(1, user).Bind(2, c.text);
      for (;;) {
        MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        near.emplace(st.Int(0), 1.0);
      }
    }
    std::vector<std::pair<MemoryId, double>> by_vector;
    {
      // Released before the commit, which updates the index.
      const auto view = lexical_->Read();
      MNEMO_ASSIGN_OR_RETURN(by_vector,
                             VectorCandidates(db, view, d.vector, DerivedOf(user), kNeighbours));
    }
    for (auto [id, sim] : by_vector) near[id] = std::max(near[id], sim);
    std::vector<write::Neighbour> neighbours;
    std::unordered_map<MemoryId, Memory> rows;
    for (auto [id, sim] : near) {
      MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(db, id));
      if (!m || m->state != State::kActive || !IsDerivedKind(m->kind)) continue;
      neighbours.push_back(NeighbourOf(*m, sim));
      rows.emplace(id, std::move(*m));
    }
    write::Outcome out;
    if (d.model_same_as != 0 && rows.count(d.model_same_as)) {
      out = {write::Decision::kNoop, d.model_same_as, "", "the model found it already known"};
    } else if (d.model_supersedes != 0 && rows.count(d.model_supersedes)) {
      out = {write::Decision::kSupersede, d.model_supersedes, "",
             "the model found that it contradicts memory " + std::to_string(d.model_supersedes)};
    } else {
      out = write::DecideByRules(c, when, neighbours);
      if (out.decision != write::Decision::kAdd && !rows.count(out.target)) {
        out = {write::Decision::kAdd, 0, "", "new"};
      }
    }
    const std::string reason = std::string(write::DecisionName(out.decision)) + ": " + out.reason;

    if (out.decision == write::Decision::kNoop || out.decision == write::Decision::kMerge) {
      const Memory& target = rows.at(out.target);
      Memory next = target;
      for (MemoryId src : c.sources) {
        if (std::find(next.sources.begin(), next.sources.end(), src) == next.sources.end()) {
          next.sources.push_back(src);
          Status s = store::InsertLink(db, Link{target.id, src, LinkType::kDerivedFrom, 1.0});
          if (!s.ok()) return s;
        }
      }
      if (out.decision == write::Decision::kMerge && !out.merged_text.empty()) {
        next.text = out.merged_text;
        for (const auto& e : c.entities) {
          if (std::find(next.entities.begin(), next.entities.end(), e) == next.entities.end())
            next.entities.push_back(e);
        }
      }
      if (next.sources == target.sources && next.text == target.text) continue;  // nothing new
      Status s = revise(target, next, reason);
      if (!s.ok()) return s;
      if (next.text != target.text) {
        s = StoreVector(db, target.id, d.vector, &changes);
        if (!s.ok()) return s;
      }
      ++derived;
      continue;
    }

    // Add (and, for supersede, close the old memory's validity).
    Memory m;
    m.id = NextId();
    m.kind = c.kind;
    m.text = c.text;
    m.user_id = user;
    m.session_id = d.session;
    m.speaker = d.speaker;
    m.event_time = c.event_time;
    m.valid_from = c.event_time.value_or(now);
    m.created_at = now;
    m.updated_at = now;
    m.importance = std::clamp(c.confidence, 0.0, 1.0);
    m.expires_at = KindExpiry(m.kind, now);
    if (m.expires_at) earliest_expiry = std::min(earliest_expiry, *m.expires_at);
    m.origin = Origin::kDerived;
    m.tags = {};
    for (const auto& k : c.keyphrases) {
      if (m.tags.size() < kMaxDerivedTags && !k.empty() && k.size() <= 256) m.tags.push_back(k);
    }
    for (const auto& e : c.entities) {
      if (m.entities.size() < 32 && !e.empty() && e.size() <= 256) m.entities.push_back(e);
    }
    m.sources = c.sources;
    m.metadata = DerivedMetadata(c, d.extractor);
    Status s = store::InsertMemory(db, m);
    if (s.ok()) {
      s = store::AppendHistory(db,
                               HistoryEntry{m.id, 1, HistoryOp::kAdd, "", "", kActor, now, reason});
    }
    if (s.ok()) s = StoreVector(db, m.id, d.vector, &changes);
    if (!s.ok()) return s;
    for (MemoryId src : m.sources) {
      s = store::InsertLink(db, Link{m.id, src, LinkType::kDerivedFrom, 1.0});
      if (!s.ok()) return s;
    }
    if (out.decision == write::Decision::kSupersede) {
      const Memory& old = rows.at(out.target);
      Memory next = old;
      next.valid_to = std::max(m.valid_from.value_or(now), old.valid_from.value_or(0));
      next.state = State::kRetired;
      next.expired_at = now;
      s = revise(old, next, "superseded by memory " + std::to_string(m.id) + ": " + out.reason);
      if (s.ok()) s = store::InsertLink(db, Link{m.id, old.id, LinkType::kSupersedes, 1.0});
      if (!s.ok()) return s;
    }
    // Links (A-MEM): the most similar derived memories of the user, weighted by cosine.
    std::vector<std::pair<double, MemoryId>> related;
    for (const auto& n : neighbours) {
      if (n.id != out.target && n.vector_similarity >= pipeline_->link_min_similarity)
        related.emplace_back(n.vector_similarity, n.id);
    }
    std::sort(related.rbegin(), related.rend());
    for (size_t i = 0; i < related.size() && i < static_cast<size_t>(pipeline_->link_k); ++i) {
      s = store::InsertLink(db, Link{m.id, related[i].second, LinkType::kRelated,
                                     std::round(related[i].first * 1000) / 1000});
      // Evolution (A-MEM): the linked memory takes up to two of the new memory's key
      // phrases as tags, in a new version whose history names the memory they came from.
      if (s.ok()) s = evolve(related[i].second, m);
      if (!s.ok()) return s;
    }
    // same_entity: the user's other derived memories that name one of its entities
    // (not the user themselves), newest first; weight = the entities' Jaccard overlap.
    s = link_same_entities(m, c.subject);
    if (!s.ok()) return s;
    ++added;
    ++derived;
  }
  // The user's topic summaries follow their derived memories, once they are quiet too.
  const bool schedule_topics = pipeline_->summaries && derived > 0;
  if (schedule_topics) {
    Status s = store::ScheduleJob(db, JobKind::kSummarize, user, "",
                                  now + pipeline_->summary_wait_ms, store::kWaitingForQuiet, now);
    if (!s.ok()) return s;
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    store::JobOutcome o = i == 0 ? usage : store::JobOutcome{};
    if (i == 0) o.derived = derived;
    Status s = store::CompleteJob(db, jobs[i].id, o, now);
    if (!s.ok()) return s;
  }
  if (usage.calls > 0 && ctx_->options.chat_model) {
    Status s = store::AddUsage(db, Day(now), ctx_->options.chat_model->id(), usage.calls,
                               usage.calls, usage.prompt_tokens, usage.completion_tokens);
    if (!s.ok()) return s;
  }
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  NoteExpiry(earliest_expiry);
  if (added > 0) AdjustUserCount(user, added);
  if (schedule_topics) WakeJobsAt(now + pipeline_->summary_wait_ms);
  return Status::Ok();
}

Result<std::vector<Job>> Space::ListJobs(std::optional<JobState> state, int limit) {
  if (limit < 1 || limit > ctx_->options.max_list_limit) {
    return Status::InvalidArgument("limit must be between 1 and " +
                                   std::to_string(ctx_->options.max_list_limit));
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
                              name_ + "'");
    }
    if (job->state != JobState::kDead) {
      return Status::FailedPrecondition("job " + std::to_string(job_id) + " is " +
                                        std::string(JobStateName(job->state)) +
                                        "; only dead jobs can be retried");
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
  if (!root)
    return Status::NotFound("memory " + std::to_string(id) + " does not exist in space '" + name_ +
                            "'");
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
