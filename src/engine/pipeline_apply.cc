// The pipeline's write side: consolidation (add / supersede / merge / noop) of extracted
// candidates against the user's derived memories, links (related, same_entity, A-MEM
// evolution), and the jobs' completion — several job groups per transaction.
//
// Every lookup goes through an index (store/derived_store.h, the lexical index), so that
// one candidate costs the same whatever the size of the space: a candidate is compared
// with the derived memories of its slot, those with its exact text, and, by vector, with
// the lexically closest and the most recent of the user's derived memories plus those
// that earlier groups of the same transaction wrote (docs/pipeline.md, "Consolidation").
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "engine/pipeline_internal.h"
#include "index/quantize.h"
#include "read/query.h"
#include "store/derived_store.h"
#include "store/memory_store.h"
#include "util/json_codec.h"
#include "util/time_util.h"
#include "write/sensitivity.h"

namespace mnemo::engine {
namespace {

using pipeline::kActor;

constexpr int kNeighbours = 8;  // consolidation candidates by vector...
// ... at least this similar: less similar texts are neither near-duplicates nor related
// (link_min_similarity is higher), so their rows need not be read.
constexpr double kMinNeighbourSimilarity = 0.25;
constexpr size_t kLexicalNeighbours = 16;    // the lexically closest derived memories...
constexpr size_t kRecentNeighbours = 32;     // ... and the most recent, scored by vector
constexpr double kSelectiveFraction = 0.05;  // lexical neighbours: terms in <= 5% of the space
constexpr size_t kMaxDerivedTags = 16;       // tags of a derived memory (its key phrases)
constexpr size_t kEvolveTagsPerLink = 2;     // key phrases a new link may add to a neighbour
constexpr int kSameEntityLinks = 5;          // same_entity links per new memory
// A derived memory lists at most this many sources in its row (each repetition of a
// known fact would otherwise lengthen the row, and its history, without bound); every
// source is linked (derived_from), which is what provenance walks and purge follows.
constexpr size_t kMaxListedSources = 32;

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

// Facts, preferences, procedures: what consolidation compares and links (episodes and
// summaries are neither merged with them nor linked to them by entity).
bool IsDerivedKind(Kind k) {
  return k == Kind::kFact || k == Kind::kPreference || k == Kind::kProcedure;
}

index::LexicalFilter DerivedOf(const std::string& user) {
  index::LexicalFilter f;
  f.user = user;
  f.kinds = {Kind::kFact, Kind::kPreference, Kind::kProcedure};
  return f;
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0;
}

}  // namespace

namespace pipeline {

std::string Day(TimeMs t) { return util::FormatIso8601(t).substr(0, 10); }

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

}  // namespace pipeline

// What one ApplyGroups transaction has written so far, for the candidates after.
struct Space::ApplyState {
  struct Written {
    MemoryId id;
    std::string user;
    std::vector<float> vector;
    size_t group;
  };
  std::vector<Written> written;  // derived memories added in this transaction
  size_t group = 0;              // the group being consolidated
  TimeMs now = 0;
  TimeMs earliest_expiry = std::numeric_limits<TimeMs>::max();  // of the kind TTLs stamped
  std::unordered_map<std::string, int64_t> added;               // per user
};

Result<std::map<MemoryId, double>> Space::DerivedNeighbours(store::Db& db, const std::string& user,
                                                            const Derivation& d,
                                                            const ApplyState& state) {
  const write::Candidate& c = d.candidate;
  std::map<MemoryId, double> near;
  if (!c.slot.empty()) {
    MNEMO_ASSIGN_OR_RETURN(auto ids, store::DerivedBySlot(db, user, c.slot, 16));
    for (MemoryId id : ids) near.emplace(id, 0.0);
  }
  MNEMO_ASSIGN_OR_RETURN(auto same, store::DerivedByText(db, user, c.text, 4));
  for (MemoryId id : same) near.emplace(id, 1.0);
  if (d.vector.empty()) return near;
  // By vector, among the lexically closest and the most recent derived memories (the
  // index holds what earlier transactions committed) and what earlier groups of this
  // transaction wrote. A group's own candidates are not compared by vector with each
  // other, as when each group committed alone: "moved to Lisbon" (a residence) and
  // "moved to Lisbon last month (2023-04)" (an event) from one turn stay two memories.
  std::vector<std::pair<MemoryId, double>> scored;
  {
    const auto view = lexical_->Read();  // released before the commit updates the index
    const index::LexicalFilter f = DerivedOf(user);
    std::vector<MemoryId> ids;
    // By the candidate's selective terms: the words most of the space shares (the user's
    // name, the year) only lengthen the search.
    const auto terms = view.Selective(read::QueryTerms(c.text), kSelectiveFraction);
    for (const auto& h : view.Search(terms, f, kLexicalNeighbours)) {
      ids.push_back(h.id);
    }
    for (MemoryId id : view.Latest(f, kRecentNeighbours)) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (const auto& nb : CurrentVectors()->index->Score(d.vector, ids)) {
      scored.emplace_back(nb.id, nb.similarity);
    }
  }
  // Of this transaction's own, the most recent (like the index's latest).
  size_t taken = 0;
  for (auto it = state.written.rbegin(); it != state.written.rend() && taken < kRecentNeighbours;
       ++it) {
    if (it->user != user || it->group == state.group) continue;
    scored.emplace_back(it->id, Cosine(d.vector, it->vector));
    ++taken;
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (size_t i = 0; i < scored.size() && i < static_cast<size_t>(kNeighbours); ++i) {
    if (scored[i].second < kMinNeighbourSimilarity) break;
    near[scored[i].first] = std::max(near[scored[i].first], scored[i].second);
  }
  return near;
}

Status Space::ApplyGroups(std::vector<ExtractedGroup>& groups) {
  // Drop what would not pass the write path's own checks (model output is untrusted),
  // then embed every derived text of the round at once, outside the lock.
  std::vector<Derivation*> all;
  for (auto& g : groups) {
    std::erase_if(g.derivations, [&](const Derivation& d) {
      return d.candidate.sources.empty() || !ValidateText(d.candidate.text, "text").ok();
    });
    for (auto& d : g.derivations) all.push_back(&d);
  }
  if (!all.empty()) {
    std::vector<std::string_view> texts;
    texts.reserve(all.size());
    for (const Derivation* d : all) texts.push_back(d->candidate.text);
    std::vector<std::vector<float>> vecs;
    Status s = EmbedDerived(texts, &vecs);
    if (s.ok() && vecs.size() != texts.size()) s = Status::Internal("embedder returned too few");
    if (!s.ok()) {
      for (const auto& g : groups) {
        MNEMO_RETURN_IF_ERROR(
            FailJobs(g.jobs, s.WithContext("embedding derived memories"), g.usage));
      }
      return Status::Ok();
    }
    for (size_t i = 0; i < vecs.size(); ++i) all[i]->vector = std::move(vecs[i]);
  }

  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  ApplyState state;
  state.now = Now();
  std::vector<std::string> topic_users;
  for (auto& g : groups) {
    MNEMO_ASSIGN_OR_RETURN(const int64_t derived, ConsolidateGroup(txn, g, &state));
    ++state.group;
    if (pipeline_->summaries && derived > 0) topic_users.push_back(g.jobs.front().user_id);
  }
  // The users' topic summaries follow their derived memories, once they are quiet too.
  std::sort(topic_users.begin(), topic_users.end());
  topic_users.erase(std::unique(topic_users.begin(), topic_users.end()), topic_users.end());
  for (const auto& user : topic_users) {
    MNEMO_RETURN_IF_ERROR(store::ScheduleJob(txn.db(), JobKind::kSummarize, user, "",
                                             state.now + pipeline_->summary_wait_ms,
                                             store::kWaitingForQuiet, state.now));
  }
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  NoteExpiry(state.earliest_expiry);
  for (const auto& [user, n] : state.added) AdjustUserCount(user, n);
  if (!topic_users.empty()) WakeJobsAt(state.now + pipeline_->summary_wait_ms);
  return Status::Ok();
}

Result<int64_t> Space::ConsolidateGroup(WriteTxn& txn, ExtractedGroup& group, ApplyState* state) {
  store::Db& db = txn.db();
  const std::vector<Job>& jobs = group.jobs;
  const store::JobOutcome& usage = group.usage;
  const TimeMs now = state->now;
  const std::string& user = jobs.front().user_id;
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
      MNEMO_ASSIGN_OR_RETURN(auto rows,
                             store::DerivedByEntity(db, user, e, m.id, kSameEntityLinks));
      for (auto& [id, entities] : rows) found.emplace(id, std::move(entities));
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
  for (auto& d : group.derivations) {
    // Its sources were read before this transaction: one purged or erased since (a user's
    // erasure deletes their jobs, but not the one running) is no source, and a derivation
    // with no source left is not written (nothing may outlive what it came from).
    std::vector<MemoryId> alive;
    for (MemoryId src : d.candidate.sources) {
      MNEMO_ASSIGN_OR_RETURN(auto source, store::GetMemory(db, src));
      if (source && source->user_id == user) alive.push_back(src);
    }
    if (alive.empty()) continue;
    d.candidate.sources = std::move(alive);
    const write::Candidate& c = d.candidate;
    const TimeMs when = c.event_time.value_or(now);
    MNEMO_ASSIGN_OR_RETURN(const auto near, DerivedNeighbours(db, user, d, *state));
    // What the rules compare (one statement), then the whole row of the one decided on.
    std::vector<MemoryId> near_ids;
    for (const auto& [id, sim] : near) near_ids.push_back(id);
    MNEMO_ASSIGN_OR_RETURN(const auto light, store::ActiveDerivedLight(db, near_ids));
    std::vector<write::Neighbour> neighbours;
    std::unordered_set<MemoryId> present;
    for (const Memory& m : light) {
      neighbours.push_back(pipeline::NeighbourOf(m, near.at(m.id)));
      present.insert(m.id);
    }
    write::Outcome out;
    if (d.model_same_as != 0 && present.count(d.model_same_as)) {
      out = {write::Decision::kNoop, d.model_same_as, "", "the model found it already known"};
    } else if (d.model_supersedes != 0 && present.count(d.model_supersedes)) {
      out = {write::Decision::kSupersede, d.model_supersedes, "",
             "the model found that it contradicts memory " + std::to_string(d.model_supersedes)};
    } else {
      out = write::DecideByRules(c, when, neighbours);
      if (out.decision != write::Decision::kAdd && !present.count(out.target)) {
        out = {write::Decision::kAdd, 0, "", "new"};
      }
    }
    std::unordered_map<MemoryId, Memory> rows;  // the target's whole row
    if (out.decision != write::Decision::kAdd) {
      MNEMO_ASSIGN_OR_RETURN(auto target, store::GetMemory(db, out.target));
      if (target) {
        rows.emplace(out.target, std::move(*target));
      } else {
        out = {write::Decision::kAdd, 0, "", "new"};
      }
    }
    const std::string reason = std::string(write::DecisionName(out.decision)) + ": " + out.reason;

    if (out.decision == write::Decision::kNoop || out.decision == write::Decision::kMerge) {
      const Memory& target = rows.at(out.target);
      Memory next = target;
      for (MemoryId src : c.sources) {
        if (std::find(next.sources.begin(), next.sources.end(), src) == next.sources.end()) {
          MNEMO_RETURN_IF_ERROR(
              store::InsertLink(db, Link{target.id, src, LinkType::kDerivedFrom, 1.0}));
          if (next.sources.size() < kMaxListedSources) next.sources.push_back(src);
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
      MNEMO_ASSIGN_OR_RETURN(const LabelSet inherited, store::LabelsOf(db, c.sources));
      next.labels |= inherited | write::FindLabels(next.text);
      MNEMO_RETURN_IF_ERROR(revise(target, next, reason));
      if (next.text != target.text) {
        MNEMO_RETURN_IF_ERROR(StoreVector(db, target.id, d.vector, txn.vector_changes()));
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
    if (m.expires_at) state->earliest_expiry = std::min(state->earliest_expiry, *m.expires_at);
    m.origin = Origin::kDerived;
    for (const auto& k : c.keyphrases) {
      if (m.tags.size() < kMaxDerivedTags && !k.empty() && k.size() <= 256) m.tags.push_back(k);
    }
    for (const auto& e : c.entities) {
      if (m.entities.size() < 32 && !e.empty() && e.size() <= 256) m.entities.push_back(e);
    }
    m.sources = c.sources;
    m.metadata = DerivedMetadata(c, d.extractor);
    // What its sources are labelled (a fact from a turn about a diagnosis is about health).
    MNEMO_ASSIGN_OR_RETURN(const LabelSet inherited, store::LabelsOf(db, m.sources));
    m.labels = inherited | write::FindLabels(m.text);
    MNEMO_RETURN_IF_ERROR(store::InsertMemory(db, m));
    MNEMO_RETURN_IF_ERROR(store::AppendHistory(
        db, HistoryEntry{m.id, 1, HistoryOp::kAdd, "", "", kActor, now, reason}));
    MNEMO_RETURN_IF_ERROR(StoreVector(db, m.id, d.vector, txn.vector_changes()));
    state->written.push_back({m.id, user, d.vector, state->group});
    for (MemoryId src : m.sources) {
      MNEMO_RETURN_IF_ERROR(store::InsertLink(db, Link{m.id, src, LinkType::kDerivedFrom, 1.0}));
    }
    if (out.decision == write::Decision::kSupersede) {
      const Memory& old = rows.at(out.target);
      Memory next = old;
      next.valid_to = std::max(m.valid_from.value_or(now), old.valid_from.value_or(0));
      next.state = State::kRetired;
      next.expired_at = now;
      MNEMO_RETURN_IF_ERROR(
          revise(old, next, "superseded by memory " + std::to_string(m.id) + ": " + out.reason));
      MNEMO_RETURN_IF_ERROR(store::InsertLink(db, Link{m.id, old.id, LinkType::kSupersedes, 1.0}));
    }
    // Links (A-MEM): the most similar derived memories of the user, weighted by cosine.
    std::vector<std::pair<double, MemoryId>> related;
    for (const auto& n : neighbours) {
      if (n.id != out.target && n.vector_similarity >= pipeline_->link_min_similarity)
        related.emplace_back(n.vector_similarity, n.id);
    }
    std::sort(related.rbegin(), related.rend());
    for (size_t i = 0; i < related.size() && i < static_cast<size_t>(pipeline_->link_k); ++i) {
      MNEMO_RETURN_IF_ERROR(
          store::InsertLink(db, Link{m.id, related[i].second, LinkType::kRelated,
                                     std::round(related[i].first * 1000) / 1000}));
      // Evolution (A-MEM): the linked memory takes up to two of the new memory's key
      // phrases as tags, in a new version whose history names the memory they came from.
      MNEMO_RETURN_IF_ERROR(evolve(related[i].second, m));
    }
    // same_entity: the user's other derived memories that name one of its entities
    // (not the user themselves), newest first; weight = the entities' Jaccard overlap.
    MNEMO_RETURN_IF_ERROR(link_same_entities(m, c.subject));
    ++state->added[user];
    ++derived;
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    store::JobOutcome o = i == 0 ? usage : store::JobOutcome{};
    if (i == 0) o.derived = derived;
    MNEMO_RETURN_IF_ERROR(store::CompleteJob(db, jobs[i].id, o, now));
  }
  if (usage.calls > 0 && ctx_->options.chat_model) {
    MNEMO_RETURN_IF_ERROR(store::AddUsage(db, pipeline::Day(now), ctx_->options.chat_model->id(),
                                          usage.calls, usage.calls, usage.prompt_tokens,
                                          usage.completion_tokens));
  }
  return derived;
}

}  // namespace mnemo::engine
