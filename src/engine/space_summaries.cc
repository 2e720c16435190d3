// Sleep-time summaries (docs/lifecycle.md, "Summaries"): a session that has been quiet
// for summary_wait_ms gets one summary of its turns, and a user's derived memories that
// share a topic get a topic summary; both are derived memories (kind summary, sources and
// derived_from links to what they summarize) kept current by new versions. And coarse to
// fine retrieval: a summary among search results brings its best-matching sources.
//
// The texts come from src/lifecycle/summarize.h (extractive, or the chat model's prompt
// and answer). Durability is the pipeline's: a job's summaries, links, history and its
// completion commit in one transaction.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/space.h"
#include "lifecycle/summarize.h"
#include "read/query.h"
#include "store/memory_store.h"
#include "text/analyzer.h"
#include "util/json_codec.h"
#include "util/time_util.h"
#include "write/sensitivity.h"

namespace mnemo::engine {
namespace {

constexpr const char* kActor = "pipeline";
constexpr int kMaxSessionTurns = 1000;   // turns a session summary covers (its first ones)
constexpr size_t kMinSessionTurns = 4;   // a shorter session is its own summary
constexpr int kMaxTopicInputs = 2000;    // the user's most recent facts and preferences read
constexpr size_t kMaxTopicsPerRun = 20;  // topic summaries written or refreshed per job
constexpr size_t kMaxTopicSources = 64;  // a topic summary's sources: its newest memories
constexpr int kMaxSummariesRead = 1000;

std::string Day(TimeMs t) { return util::FormatIso8601(t).substr(0, 10); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool Summarizable(const Memory& m) {
  return m.kind == Kind::kEpisode && m.origin != Origin::kDerived && m.role != "system" &&
         m.role != "tool" && m.quarantine.empty();
}

TimeMs TimeOf(const Memory& m) {
  return m.event_time.value_or(m.valid_from.value_or(m.created_at));
}

// The summaries of `user` whose metadata "summary" is `what` ("session" or "topic").
Result<std::vector<Memory>> SummariesOf(store::Db& db, const std::string& user,
                                        const std::string& session, const std::string& what) {
  Filter f;
  f.user_id = user;
  f.session_id = session;
  f.kinds = {Kind::kSummary};
  f.include_archived = true;
  f.meta_equals = {{"summary", nlohmann::json(what).dump()}};
  return store::ListMemories(db, f, 0, false, kMaxSummariesRead);
}

std::string MetaString(const Memory& m, const char* key) {
  auto j = nlohmann::json::parse(m.metadata, nullptr, false);
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool SameSet(std::vector<MemoryId> a, std::vector<MemoryId> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

// A summary on its way into the store: a new memory (no `existing`) or a new version.
struct Space::SummaryDraft {
  std::optional<Memory> existing;
  Memory next;  // id, version and times are set when it is written
  std::string reason;
  std::vector<float> vector;
};

Status Space::RunSummarizeJob(const Job& job) {
  if (!pipeline_->enabled || !pipeline_->summaries) {
    // Turned off since the job was scheduled: nothing to do.
    std::vector<SummaryDraft> none;
    return ApplySummaries(job, none, {}, store::JobOutcome{});
  }
  return job.session_id.empty() ? SummarizeTopics(job) : SummarizeSession(job);
}

Status Space::SummarizeSession(const Job& job) {
  const TimeMs now = Now();
  std::vector<Memory> episodes;
  std::vector<Memory> existing;
  int64_t tokens_today = 0;
  {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    Filter f;
    f.user_id = job.user_id;
    f.session_id = job.session_id;
    f.kinds = {Kind::kEpisode};
    f.include_archived = true;
    MNEMO_ASSIGN_OR_RETURN(auto rows, store::ListMemories(*reader, f, 0, false, kMaxSessionTurns));
    for (auto& m : rows) {
      if (Summarizable(m)) episodes.push_back(std::move(m));
    }
    MNEMO_ASSIGN_OR_RETURN(existing, SummariesOf(*reader, job.user_id, job.session_id, "session"));
    MNEMO_ASSIGN_OR_RETURN(tokens_today, store::TokensOnDay(*reader, Day(now)));
  }
  std::stable_sort(episodes.begin(), episodes.end(), [](const Memory& a, const Memory& b) {
    return TimeOf(a) != TimeOf(b) ? TimeOf(a) < TimeOf(b) : a.id < b.id;
  });
  const Memory* current = existing.empty() ? nullptr : &existing.front();
  std::vector<std::pair<Memory, std::string>> retire;
  // More than one (written concurrently by hand, say): the oldest is kept current.
  for (size_t i = 1; i < existing.size(); ++i)
    retire.emplace_back(existing[i], "duplicate session summary");
  std::vector<SummaryDraft> drafts;
  if (episodes.size() < kMinSessionTurns) {
    if (current) {
      retire.emplace_back(*current, "its session has fewer than " +
                                        std::to_string(kMinSessionTurns) + " active turns left");
    }
    return ApplySummaries(job, drafts, retire, store::JobOutcome{});
  }
  std::vector<MemoryId> ids;
  std::vector<lifecycle::SummaryTurn> turns;
  for (const auto& m : episodes) {
    ids.push_back(m.id);
    turns.push_back(
        lifecycle::SummaryTurn{m.speaker.empty() ? m.role : m.speaker, m.text, m.event_time});
  }
  const ChatModel* model = pipeline_->use_model ? ctx_->options.chat_model.get() : nullptr;
  // The same turns make the same summary: a model is not asked twice.
  if (current && model && SameSet(current->sources, ids)) {
    return ApplySummaries(job, drafts, retire, store::JobOutcome{});
  }
  std::string text, extractor;
  store::JobOutcome usage;
  if (model) {
    MNEMO_ASSIGN_OR_RETURN(bool deferred, DeferIfBudgetSpent({job}, tokens_today, now));
    if (deferred) return Status::Ok();
    auto answer = model->Complete(lifecycle::BuildSummaryRequest(turns));
    usage.calls = 1;
    if (!answer.ok()) return FailJobs({job}, answer.status().WithContext("summarizing"), usage);
    usage.prompt_tokens = answer->prompt_tokens;
    usage.completion_tokens = answer->completion_tokens;
    auto parsed = lifecycle::ParseSummaryAnswer(answer->content, turns);
    if (!parsed.ok()) return FailJobs({job}, parsed.status(), usage);
    text = std::move(parsed).value();
    extractor = model->id();
  } else {
    text = lifecycle::ExtractiveSessionSummary(turns);
    extractor = "extractive";
  }
  if (current && SameSet(current->sources, ids) && current->text == text) {
    return ApplySummaries(job, drafts, retire, usage);  // unchanged
  }
  if (Status s = ValidateText(text, "summary"); !s.ok()) return FailJobs({job}, s, usage);
  SummaryDraft d;
  Memory& m = d.next;
  m.kind = Kind::kSummary;
  m.text = std::move(text);
  m.user_id = job.user_id;
  m.agent_id = episodes.front().agent_id;
  m.session_id = job.session_id;
  m.event_time = episodes.front().event_time;
  m.valid_from = m.event_time;
  m.origin = Origin::kDerived;
  m.sources = ids;
  std::set<std::string> seen;
  for (const auto& t : turns) {
    if (!t.speaker.empty() && m.entities.size() < 8 && seen.insert(Lower(t.speaker)).second)
      m.entities.push_back(t.speaker);
  }
  nlohmann::json meta = {{"summary", "session"},
                         {"session", job.session_id},
                         {"turns", ids.size()},
                         {"extractor", extractor}};
  if (episodes.front().event_time) meta["from"] = util::FormatIso8601(TimeOf(episodes.front()));
  if (episodes.back().event_time) meta["to"] = util::FormatIso8601(TimeOf(episodes.back()));
  m.metadata = meta.dump();
  if (current) {
    d.existing = *current;
    d.reason = "summary refreshed: the session has " + std::to_string(ids.size()) + " turns (was " +
               std::to_string(current->sources.size()) + ")";
  } else {
    d.reason = "session summary of " + std::to_string(ids.size()) + " turns (" + extractor + ")";
  }
  drafts.push_back(std::move(d));
  return ApplySummaries(job, drafts, retire, usage);
}

Status Space::SummarizeTopics(const Job& job) {
  std::vector<Memory> derived, existing;
  {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    Filter f;
    f.user_id = job.user_id;
    f.kinds = {Kind::kFact, Kind::kPreference};
    f.include_archived = true;
    MNEMO_ASSIGN_OR_RETURN(derived, store::ListMemories(*reader, f, 0, true, kMaxTopicInputs));
    MNEMO_ASSIGN_OR_RETURN(existing, SummariesOf(*reader, job.user_id, "", "topic"));
  }
  std::vector<lifecycle::TopicItem> items;
  for (const auto& m : derived) {
    items.push_back(lifecycle::TopicItem{m.id, m.text, m.entities, TimeOf(m)});
  }
  const std::vector<std::string> exclude = {job.user_id};
  const auto topics =
      lifecycle::FindTopics(items, pipeline_->topic_min_memories, kMaxTopicsPerRun, exclude);
  // Every entity's count, to retire the summaries of topics that fell below the minimum.
  std::unordered_map<std::string, size_t> counts;
  for (const auto& t : lifecycle::FindTopics(items, 1, items.size() + 1, exclude))
    counts[Lower(t.name)] = t.items.size();
  std::map<std::string, const Memory*> by_topic;
  std::vector<std::pair<Memory, std::string>> retire;
  for (const auto& m : existing) {
    const std::string key = Lower(MetaString(m, "topic"));
    if (by_topic.count(key)) {
      retire.emplace_back(m, "duplicate topic summary");
      continue;
    }
    by_topic[key] = &m;
    if (counts[key] < static_cast<size_t>(pipeline_->topic_min_memories)) {
      retire.emplace_back(m, "topic '" + MetaString(m, "topic") + "' is named by " +
                                 std::to_string(counts[key]) + " memories, fewer than " +
                                 std::to_string(pipeline_->topic_min_memories));
    }
  }
  std::vector<SummaryDraft> drafts;
  for (const auto& t : topics) {
    std::vector<const lifecycle::TopicItem*> members;
    const size_t from = t.items.size() > kMaxTopicSources ? t.items.size() - kMaxTopicSources : 0;
    for (size_t i = from; i < t.items.size(); ++i) members.push_back(&items[t.items[i]]);
    SummaryDraft d;
    Memory& m = d.next;
    m.kind = Kind::kSummary;
    m.text = lifecycle::TopicSummaryText(t.name, members);
    m.user_id = job.user_id;
    m.origin = Origin::kDerived;
    for (const auto* it : members) m.sources.push_back(it->id);
    m.event_time = members.front()->time;
    m.valid_from = m.event_time;
    m.entities = {t.name};
    m.metadata = nlohmann::json({{"summary", "topic"},
                                 {"topic", t.name},
                                 {"memories", t.items.size()},
                                 {"extractor", "extractive"}})
                     .dump();
    auto it = by_topic.find(Lower(t.name));
    if (it != by_topic.end()) {
      const Memory& cur = *it->second;
      if (SameSet(cur.sources, m.sources) && cur.text == m.text) continue;
      d.existing = cur;
      d.reason =
          "topic summary refreshed: " + std::to_string(t.items.size()) + " memories name " + t.name;
    } else {
      d.reason = "topic summary: " + std::to_string(t.items.size()) + " memories name " + t.name;
    }
    if (!ValidateText(m.text, "summary").ok()) continue;
    drafts.push_back(std::move(d));
  }
  return ApplySummaries(job, drafts, retire, store::JobOutcome{});
}

Status Space::ApplySummaries(const Job& job, std::vector<SummaryDraft>& drafts,
                             const std::vector<std::pair<Memory, std::string>>& retire,
                             const store::JobOutcome& usage) {
  std::vector<size_t> to_embed;
  std::vector<std::string_view> texts;
  for (size_t i = 0; i < drafts.size(); ++i) {
    if (drafts[i].existing && drafts[i].existing->text == drafts[i].next.text) continue;
    to_embed.push_back(i);
    texts.push_back(drafts[i].next.text);
  }
  if (!texts.empty()) {
    std::vector<std::vector<float>> vecs;
    Status s = EmbedDerived(texts, &vecs);
    if (s.ok() && vecs.size() != texts.size()) s = Status::Internal("embedder returned too few");
    if (!s.ok()) return FailJobs({job}, s.WithContext("embedding summaries"), usage);
    for (size_t i = 0; i < to_embed.size(); ++i) drafts[to_embed[i]].vector = std::move(vecs[i]);
  }
  const TimeMs now = Now();
  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  store::Db& db = txn.db();
  std::vector<IndexChange>& changes = *txn.vector_changes();
  int64_t added = 0, written = 0;
  TimeMs earliest_expiry = std::numeric_limits<TimeMs>::max();
  auto run = [&]() -> Status {
    for (auto& d : drafts) {
      Memory& m = d.next;
      std::vector<MemoryId> new_sources = m.sources;
      // A summary carries the labels of what it summarizes.
      MNEMO_ASSIGN_OR_RETURN(const LabelSet inherited, store::LabelsOf(db, m.sources));
      m.labels = inherited | write::FindLabels(m.text);
      if (d.existing) {
        // As it is now: a user may have edited it since the job read it.
        MNEMO_ASSIGN_OR_RETURN(auto cur, store::GetMemory(db, d.existing->id));
        // Purged meanwhile: the next run writes a new one. Removed or expired meanwhile:
        // that decision stands.
        if (!cur || cur->state != State::kActive) continue;
        m.id = cur->id;
        m.version = cur->version + 1;
        m.created_at = cur->created_at;
        m.importance = cur->importance;
        m.tier = cur->tier;
        m.strength = cur->strength;
        m.last_access = cur->last_access;
        m.access_count = cur->access_count;
        m.tags = cur->tags;
        m.agent_id = cur->agent_id;
        m.expires_at = cur->expires_at;
        m.state = State::kActive;
        m.updated_at = now;
        MNEMO_RETURN_IF_ERROR(store::ReplaceMemory(db, *cur, m));
        MNEMO_RETURN_IF_ERROR(store::AppendHistory(
            db, HistoryEntry{m.id, m.version, HistoryOp::kUpdate,
                             util::DumpJson(util::MemoryToJson(*cur)), "", kActor, now, d.reason}));
        std::erase_if(new_sources, [&](MemoryId id) {
          return std::find(cur->sources.begin(), cur->sources.end(), id) != cur->sources.end();
        });
        if (cur->text != m.text) MNEMO_RETURN_IF_ERROR(StoreVector(db, m.id, d.vector, &changes));
      } else {
        m.id = NextId();
        m.created_at = now;
        m.updated_at = now;
        m.expires_at = KindExpiry(m.kind, now);
        if (m.expires_at) earliest_expiry = std::min(earliest_expiry, *m.expires_at);
        MNEMO_RETURN_IF_ERROR(store::InsertMemory(db, m));
        MNEMO_RETURN_IF_ERROR(store::AppendHistory(
            db, HistoryEntry{m.id, 1, HistoryOp::kAdd, "", "", kActor, now, d.reason}));
        MNEMO_RETURN_IF_ERROR(StoreVector(db, m.id, d.vector, &changes));
        ++added;
      }
      for (MemoryId src : new_sources) {
        MNEMO_RETURN_IF_ERROR(store::InsertLink(db, Link{m.id, src, LinkType::kDerivedFrom, 1.0}));
      }
      ++written;
    }
    for (const auto& [old, why] : retire) {
      MNEMO_ASSIGN_OR_RETURN(auto cur, store::GetMemory(db, old.id));
      if (!cur || cur->state != State::kActive) continue;
      MNEMO_RETURN_IF_ERROR(RetireOne(db, *cur, now, now, kActor, why));
      ++written;
    }
    // A write to the session while this job ran pushed it back (ScheduleJob): it stays
    // pending and summarizes again once the session is quiet.
    MNEMO_ASSIGN_OR_RETURN(auto now_job, store::GetJob(db, job.id));
    if (now_job && now_job->state == JobState::kPending &&
        now_job->next_run_at == job.next_run_at) {
      store::JobOutcome o = usage;
      o.derived = written;
      MNEMO_RETURN_IF_ERROR(store::CompleteJob(db, job.id, o, now));
    }
    if (usage.calls > 0 && ctx_->options.chat_model) {
      MNEMO_RETURN_IF_ERROR(store::AddUsage(db, Day(now), ctx_->options.chat_model->id(),
                                            usage.calls, usage.calls, usage.prompt_tokens,
                                            usage.completion_tokens));
    }
    return txn.Commit();
  };
  MNEMO_RETURN_IF_ERROR(run());
  NoteExpiry(earliest_expiry);
  if (added > 0) AdjustUserCount(job.user_id, added);
  return Status::Ok();
}

// Coarse to fine: after each summary among the hits, up to summary_episodes of its
// sources that pass the filter, best match with the query first (BM25-like term weights
// within the summary's sources; ties in time order), scored between the summary and the
// hit that followed it. A source ranked above the summary stays where it is; one ranked
// below moves up. The list keeps at most k hits, without duplicates.
Status Space::ExpandSummaryHits(store::Db& db, const SearchRequest& req,
                                std::vector<SearchHit>* hits) {
  if (req.summary_episodes <= 0) return Status::Ok();
  if (std::none_of(hits->begin(), hits->end(),
                   [](const SearchHit& h) { return h.memory.kind == Kind::kSummary; })) {
    return Status::Ok();
  }
  const auto query_terms = read::QueryTerms(req.query);
  const std::unordered_set<std::string> wanted(query_terms.begin(), query_terms.end());
  std::unordered_map<MemoryId, size_t> position;
  for (size_t i = 0; i < hits->size(); ++i) position.emplace((*hits)[i].memory.id, i);
  std::vector<SearchHit> out;
  std::unordered_set<MemoryId> placed;
  const size_t k = static_cast<size_t>(std::max(1, req.k));
  for (size_t i = 0; i < hits->size() && out.size() < k; ++i) {
    SearchHit& hit = (*hits)[i];
    if (placed.count(hit.memory.id)) continue;  // moved up under an earlier summary
    placed.insert(hit.memory.id);
    out.push_back(std::move(hit));
    const Memory& summary = out.back().memory;
    if (summary.kind != Kind::kSummary || summary.sources.empty()) continue;
    const double top = out.back().score;
    std::vector<MemoryId> candidates;
    for (MemoryId id : summary.sources) {
      if (!placed.count(id)) candidates.push_back(id);
    }
    if (candidates.empty()) continue;
    MNEMO_ASSIGN_OR_RETURN(auto rows, store::FetchMatching(db, candidates, req.filter));
    if (rows.empty()) continue;
    // Term weights within these sources: idf over them, saturating term frequency.
    std::vector<std::unordered_map<std::string, int>> tf(rows.size());
    std::unordered_map<std::string, int> df;
    for (size_t r = 0; r < rows.size(); ++r) {
      for (auto& t : text::Terms(rows[r].text)) {
        if (wanted.count(t) && tf[r][t]++ == 0) ++df[t];
      }
    }
    std::vector<std::pair<double, size_t>> ranked;
    const double n = static_cast<double>(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      double s = 0;
      for (const auto& [t, f] : tf[r]) {
        s += std::log(1.0 + n / df[t]) * (f * 2.2) / (f + 1.2);
      }
      ranked.emplace_back(s, r);
    }
    std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first > b.first;
      const Memory &x = rows[a.second], &y = rows[b.second];
      return TimeOf(x) != TimeOf(y) ? TimeOf(x) < TimeOf(y) : x.id < y.id;
    });
    const size_t take = std::min(ranked.size(), static_cast<size_t>(req.summary_episodes));
    // The score of the next hit still to come bounds the children's scores from below.
    double floor = top - std::abs(top) * 0.1;
    for (size_t j = i + 1; j < hits->size(); ++j) {
      const MemoryId id = (*hits)[j].memory.id;
      if (placed.count(id)) continue;
      bool chosen = false;
      for (size_t c = 0; c < take; ++c) chosen |= rows[ranked[c].second].id == id;
      if (chosen) continue;
      floor = std::min(top, (*hits)[j].score);
      break;
    }
    for (size_t c = 0; c < take && out.size() < k; ++c) {
      Memory& m = rows[ranked[c].second];
      if (req.filter.as_of) MNEMO_RETURN_IF_ERROR(RewindTo(db, *req.filter.as_of, &m));
      SearchHit child;
      child.score =
          top - (top - floor) * static_cast<double>(c + 1) / static_cast<double>(take + 1);
      auto was = position.find(m.id);
      if (req.explain && was != position.end())
        child.explanation = (*hits)[was->second].explanation;
      if (req.explain) {
        child.explanation.push_back(
            SignalExplanation{"summary", static_cast<int>(c + 1), ranked[c].first, child.score});
      }
      placed.insert(m.id);
      child.memory = std::move(m);
      out.push_back(std::move(child));
    }
  }
  *hits = std::move(out);
  return Status::Ok();
}

}  // namespace mnemo::engine
