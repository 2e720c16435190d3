// Space::Search: candidates from BM25 and from vectors, fused, filtered, explained.
#include <algorithm>
#include <cmath>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "engine/anchors.h"
#include "engine/space.h"
#include "lifecycle/retention.h"
#include "read/fusion.h"
#include "read/query.h"
#include "store/memory_store.h"
#include "write/extract_rules.h"

namespace mnemo::engine {
namespace {

// The HNSW over-fetch for a filtered search never exceeds this many neighbours.
constexpr size_t kMaxGraphFetch = 5000;

// How a candidate's score flows to its session neighbours, as multiples of
// SearchRequest::context_weight: more to the message after it (the answer to a question
// usually follows it) than to the one before. Measured on LoCoMo (docs/benchmarks.md).
constexpr double kContextForward = 1.5;
constexpr double kContextBackward = 0.5;

void SortRanked(std::vector<read::Ranked>* ranked) {
  std::sort(ranked->begin(), ranked->end(), [](const read::Ranked& a, const read::Ranked& b) {
    return a.raw != b.raw ? a.raw > b.raw : a.id < b.id;
  });
}

// Conversation context (SearchRequest::context_weight): each candidate earns a share of
// the (non-negative) scores of its session neighbours in the list; a neighbour outside
// the list enters it with what it earns, if it passes the filter.
Status AddConversationContext(store::Db& db, const Filter& filter, double weight, size_t limit,
                              read::Signal* signal) {
  if (weight <= 0 || signal->ranked.empty()) return Status::Ok();
  std::unordered_map<MemoryId, double> own;
  std::vector<MemoryId> ids;
  for (const auto& r : signal->ranked) {
    own.emplace(r.id, std::max(0.0, r.raw));
    ids.push_back(r.id);
  }
  MNEMO_ASSIGN_OR_RETURN(auto links, store::LinksTouching(db, ids, LinkType::kNext));
  std::unordered_map<MemoryId, double> total;
  for (const auto& r : signal->ranked) total[r.id] = r.raw;
  std::vector<MemoryId> newcomers;
  for (const Link& l : links) {  // l.from is the earlier message, l.to the next one
    for (auto [from, to, share] :
         {std::tuple{l.from, l.to, kContextForward}, std::tuple{l.to, l.from, kContextBackward}}) {
      auto it = own.find(from);
      if (it == own.end() || it->second == 0) continue;
      auto [slot, inserted] = total.emplace(to, 0.0);
      if (inserted) newcomers.push_back(to);
      slot->second += share * weight * it->second;
    }
  }
  if (!newcomers.empty()) {
    MNEMO_ASSIGN_OR_RETURN(const auto pass, store::PassingIds(db, newcomers, filter));
    for (MemoryId id : newcomers) {
      if (!pass.count(id)) total.erase(id);
    }
  }
  signal->ranked.clear();
  for (const auto& [id, score] : total) signal->ranked.push_back(read::Ranked{id, score});
  SortRanked(&signal->ranked);
  if (signal->ranked.size() > limit) signal->ranked.resize(limit);
  return Status::Ok();
}

// Dates named in the query (SearchRequest::date_weight): the same MATCH restricted to
// each named period, widened by a day on both sides (events are often told the day
// after); a memory found there scores (1 + weight) x its BM25, and may enter the list.
Status AddDateWindows(store::Db& db, const SearchRequest& req, const std::string& match,
                      const std::string& scope, size_t limit, TimeMs now, read::Signal* signal) {
  if (req.date_weight <= 0) return Status::Ok();
  auto dates = read::DateMentions(req.query);
  // Relative expressions ("last week") need the reference time; absolute ones are found
  // by both parsers, which is harmless (a memory keeps its best window score).
  for (const auto& t : write::ResolveTimes(req.query, req.now.value_or(now))) {
    dates.push_back(read::DateMention{t.start, t.end_time});
  }
  // Expressions anchored on an event ("two days before the wedding"): engine/anchors.h.
  MNEMO_ASSIGN_OR_RETURN(auto anchored, AnchoredWindows(db, req, scope, req.now.value_or(now)));
  dates.insert(dates.end(), anchored.begin(), anchored.end());
  if (dates.empty()) return Status::Ok();
  constexpr TimeMs kPad = 24LL * 3600 * 1000;
  std::unordered_map<MemoryId, double> score;
  for (const auto& r : signal->ranked) score[r.id] = r.raw;
  for (const auto& d : dates) {
    Filter f = req.filter;  // intersect with the request's own time range
    f.time_from = f.time_from ? std::max(*f.time_from, d.from - kPad) : d.from - kPad;
    f.time_to = f.time_to ? std::min(*f.time_to, d.to + kPad) : d.to + kPad;
    if (*f.time_to <= *f.time_from) continue;
    MNEMO_ASSIGN_OR_RETURN(auto in_window,
                           store::LexicalSearch(db, match, f, static_cast<int>(limit)));
    for (const auto& [id, bm25] : in_window) {
      double& slot = score[id];
      slot = std::max(slot, bm25 * (1 + req.date_weight));
    }
  }
  signal->ranked.clear();
  for (const auto& [id, sc] : score) signal->ranked.push_back(read::Ranked{id, sc});
  SortRanked(&signal->ranked);
  if (signal->ranked.size() > limit) signal->ranked.resize(limit);
  return Status::Ok();
}

// Session prior (SearchRequest::session_weight): each candidate that belongs to a
// session earns `weight` x the best score in the list of any memory of that session,
// so the messages of the conversation that matched best rise together.
Status AddSessionPrior(store::Db& db, double weight, read::Signal* signal) {
  if (weight <= 0 || signal->ranked.empty()) return Status::Ok();
  std::vector<MemoryId> ids;
  ids.reserve(signal->ranked.size());
  for (const auto& r : signal->ranked) ids.push_back(r.id);
  MNEMO_ASSIGN_OR_RETURN(const auto sessions, store::SessionsOf(db, ids));
  std::unordered_map<std::string_view, double> best;
  for (const auto& r : signal->ranked) {
    auto it = sessions.find(r.id);
    if (it == sessions.end()) continue;
    auto [slot, inserted] = best.emplace(it->second, r.raw);
    if (!inserted) slot->second = std::max(slot->second, r.raw);
  }
  for (auto& r : signal->ranked) {
    auto it = sessions.find(r.id);
    if (it != sessions.end()) r.raw += weight * std::max(0.0, best[it->second]);
  }
  SortRanked(&signal->ranked);
  return Status::Ok();
}

// True when `f` selects by user (or all users) and state only.
bool OnlyScope(const Filter& f) {
  return f.agent_id.empty() && f.session_id.empty() && f.kinds.empty() && !f.time_from &&
         !f.time_to && f.tags.empty() && f.meta_equals.empty();
}

}  // namespace

bool Space::OwnsWholeSpace(const std::string& user) {
  std::lock_guard<std::mutex> lock(counts_mu_);
  auto it = user_counts_.find(user);
  return it != user_counts_.end() && it->second == total_count_;
}

Status Space::CheckScope(const Filter& f) {
  if (f.all_users && !f.user_id.empty()) {
    return Status::InvalidArgument("give either a user or all_users (--all-users), not both");
  }
  if (f.all_users || !f.user_id.empty()) return Status::Ok();
  size_t users;
  {
    std::lock_guard<std::mutex> lock(counts_mu_);
    users = user_counts_.size();
  }
  if (users > 1) {
    return Status::InvalidArgument("space '" + name_ + "' holds memories of " +
                                   std::to_string(users) +
                                   " users: name one (--user U) or search all of them "
                                   "explicitly (--all-users)");
  }
  return Status::Ok();
}

Result<std::vector<std::pair<MemoryId, double>>> Space::VectorCandidates(
    store::Db& db, const std::vector<float>& q, const Filter& f, size_t n,
    const index::VectorIndex* index) {
  std::shared_ptr<const Vectors> vectors;
  if (index == nullptr) {
    vectors = CurrentVectors();
    index = vectors->index.get();
  }
  std::vector<std::pair<MemoryId, double>> out;
  // Never compare vectors of different embedders (a missing vector, a re-embed).
  if (q.empty() || static_cast<int>(q.size()) != index->dimension()) return out;
  int64_t total, scope;
  {
    std::lock_guard<std::mutex> lock(counts_mu_);
    total = total_count_;
    auto it = user_counts_.find(f.user_id);
    scope = f.user_id.empty() ? total : (it == user_counts_.end() ? 0 : it->second);
  }
  if (scope == 0) return out;
  const auto exact_limit = static_cast<int64_t>(ctx_->options.exact_scan_limit);
  const bool whole_space = scope == total && OnlyScope(f);
  if (!whole_space && (scope <= exact_limit || !OnlyScope(f))) {
    // A part of the space: score exactly the ids SQLite says match, if not too many.
    MNEMO_ASSIGN_OR_RETURN(auto ids,
                           store::MatchingIds(db, f, static_cast<size_t>(exact_limit) + 1));
    if (ids.size() <= static_cast<size_t>(exact_limit)) {
      auto scored = index->Score(q, ids);
      const size_t keep = std::min(n, scored.size());
      std::partial_sort(scored.begin(), scored.begin() + static_cast<ptrdiff_t>(keep), scored.end(),
                        [](const index::Neighbor& a, const index::Neighbor& b) {
                          return a.similarity != b.similarity ? a.similarity > b.similarity
                                                              : a.id < b.id;
                        });
      for (size_t i = 0; i < keep; ++i) out.emplace_back(scored[i].id, scored[i].similarity);
      return out;
    }
  }
  // The whole space (an exact scan of the index when small, else the graph), or a large
  // part of it (the graph). Over-fetch in proportion to the part the scope covers, keep
  // what passes the filter in SQLite, and widen while too little passed and the index
  // may hold more.
  const double fraction =
      static_cast<double>(scope) / static_cast<double>(std::max<int64_t>(total, 1));
  size_t fetch = std::min(kMaxGraphFetch,
                          static_cast<size_t>(std::ceil(static_cast<double>(n) * 2 / fraction)));
  fetch = std::max(fetch, n + 16);
  for (;;) {
    const auto neighbors = total <= exact_limit
                               ? index->ScanAll(q, fetch)
                               : index->Search(q, fetch, std::max<size_t>(fetch, 64));
    std::vector<MemoryId> ids;
    ids.reserve(neighbors.size());
    for (const auto& nb : neighbors) ids.push_back(nb.id);
    MNEMO_ASSIGN_OR_RETURN(const auto pass, store::PassingIds(db, ids, f));
    out.clear();
    for (const auto& nb : neighbors) {
      if (out.size() >= n) break;
      if (pass.count(nb.id)) out.emplace_back(nb.id, nb.similarity);
    }
    if (out.size() >= n || neighbors.size() < fetch || fetch >= kMaxGraphFetch) return out;
    fetch = std::min(kMaxGraphFetch, fetch * 4);
  }
}

Result<std::vector<SearchHit>> Space::Search(const SearchRequest& req) {
  MNEMO_RETURN_IF_ERROR(ValidateText(req.query, "query"));
  if (req.k < 1 || req.k > ctx_->options.max_k) {
    return Status::InvalidArgument("k must be between 1 and " +
                                   std::to_string(ctx_->options.max_k));
  }
  for (double w : {req.lexical_weight, req.vector_weight}) {
    if (!std::isfinite(w) || w < 0)
      return Status::InvalidArgument("weights must be finite and >= 0");
  }
  if (req.lexical_weight == 0 && req.vector_weight == 0) {
    return Status::InvalidArgument("at least one of the lexical and vector weights must be > 0");
  }
  if (req.rrf_k < 1) return Status::InvalidArgument("rrf_k must be >= 1");
  for (auto [w, name] : {std::pair{req.context_weight, "context_weight"},
                         std::pair{req.session_weight, "session_weight"},
                         std::pair{req.date_weight, "date_weight"}}) {
    if (!std::isfinite(w) || w < 0) {
      return Status::InvalidArgument(std::string(name) + " must be finite and >= 0");
    }
  }
  if (!(req.retention_weight >= 0 && req.retention_weight <= 1)) {
    return Status::InvalidArgument("retention_weight must be between 0 and 1");
  }
  if (!(req.summary_weight >= 0 && req.summary_weight <= 1)) {
    return Status::InvalidArgument("summary_weight must be between 0 and 1");
  }
  if (req.summary_episodes < 0 || req.summary_episodes > 20) {
    return Status::InvalidArgument("summary_episodes must be between 0 and 20");
  }
  if (req.filter.time_from && req.filter.time_to && *req.filter.time_to <= *req.filter.time_from) {
    return Status::InvalidArgument("the time range is empty (until is not after since)");
  }
  MNEMO_RETURN_IF_ERROR(CheckScope(req.filter));
  ExpireIfDue();

  // The query vector and the index come from one embedder: the space's, also during a
  // re-embed (until the switch). When it cannot be built here (a remote embedder that is
  // no longer configured), vector search is off: lexical search alone, never a comparison
  // of vectors from different embedders.
  // Likewise when the embedder fails as a provider (down, timing out, answering garbage):
  // the search degrades to lexical, with a warning and an explain note, rather than fail.
  const auto vectors = CurrentVectors();
  std::string off_reason;  // why vector search is off for this request; "" when it is on
  std::vector<float> query_vector;
  if (req.vector_weight > 0 && vectors->embedder == nullptr) {
    off_reason = "re-embedding from " + vectors->id;
    if (!warned_lexical_only_.exchange(true)) {
      Log(LogLevel::kWarning,
          "space '" + name_ + "': its vectors come from embedder " + vectors->id +
              ", which is not configured; searches are lexical only until "
              "the re-embed to " +
              (vectors->next ? vectors->next->id() : std::string("?")) +
              " completes (mnemo stats --space " + name_ + " shows its progress)");
    }
  } else if (req.vector_weight > 0) {
    std::vector<std::vector<float>> q;
    Status s = vectors->embedder->Embed({req.query}, &q);
    if (s.ok() && (q.size() != 1 || static_cast<int>(q[0].size()) != vectors->dimension)) {
      s = Status::Corruption("the embedder returned a malformed query vector");
    }
    if (s.ok()) {
      query_vector = std::move(q[0]);
    } else if (IsProviderFailure(s)) {
      off_reason = "the embedder failed";
      Log(LogLevel::kWarning, "space '" + name_ +
                                  "': searching lexically only: embedding the "
                                  "query: " +
                                  s.ToString());
    } else {
      return s.WithContext("embedding the query");
    }
  }
  const bool vector_off = !off_reason.empty();
  const SignalExplanation off_note{"vector (off: " + off_reason + ")", 0, 0, 0};
  if (vector_off) {
    if (req.lexical_weight == 0) {
      // A vector-only request: lexical search stands in rather than returning nothing.
      SearchRequest lexical = req;
      lexical.lexical_weight = req.vector_weight;
      lexical.vector_weight = 0;
      MNEMO_ASSIGN_OR_RETURN(auto hits, Search(lexical));
      if (req.explain) {
        for (auto& h : hits) h.explanation.push_back(off_note);
      }
      return hits;
    }
  }

  const size_t per_signal = std::max<size_t>(100, static_cast<size_t>(req.k) * 2);
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  store::Db& db = *reader;

  std::vector<read::Signal> signals;
  if (req.lexical_weight > 0) {
    read::Signal lexical{"lexical", req.lexical_weight, {}};
    // The scope token narrows the FTS query to the user's rows; when she owns the whole
    // space it would only add the longest doclist to intersect (the filter still checks).
    const std::string scope = req.filter.user_id.empty() || OwnsWholeSpace(req.filter.user_id)
                                  ? std::string()
                                  : store::ScopeToken(req.filter.user_id);
    const std::string match = read::MatchExpression(read::QueryTerms(req.query), scope);
    if (!match.empty()) {
      MNEMO_ASSIGN_OR_RETURN(
          auto hits, store::LexicalSearch(db, match, req.filter, static_cast<int>(per_signal)));
      for (auto& [id, s] : hits) lexical.ranked.push_back(read::Ranked{id, s});
      MNEMO_RETURN_IF_ERROR(AddDateWindows(db, req, match, scope, per_signal, Now(), &lexical));
    }
    MNEMO_RETURN_IF_ERROR(
        AddConversationContext(db, req.filter, req.context_weight, per_signal, &lexical));
    MNEMO_RETURN_IF_ERROR(AddSessionPrior(db, req.session_weight, &lexical));
    signals.push_back(std::move(lexical));
  }
  if (req.vector_weight > 0 && !vector_off) {
    read::Signal vector{"vector", req.vector_weight, {}};
    MNEMO_ASSIGN_OR_RETURN(auto hits, VectorCandidates(db, query_vector, req.filter, per_signal,
                                                       vectors->index.get()));
    for (auto& [id, s] : hits) vector.ranked.push_back(read::Ranked{id, s});
    MNEMO_RETURN_IF_ERROR(
        AddConversationContext(db, req.filter, req.context_weight, per_signal, &vector));
    signals.push_back(std::move(vector));
  }

  auto fused = read::Fuse(signals, req.fusion, req.rrf_k);
  // Retention and the summaries' weight reorder the best candidates: look at twice as
  // many as asked for.
  const size_t k = static_cast<size_t>(req.k);
  const bool rerank = req.retention_weight > 0 || req.summary_weight != 1;
  const size_t keep = rerank ? std::max(2 * k, k + 10) : k;
  if (fused.size() > keep) fused.resize(keep);
  std::vector<MemoryId> ids;
  for (const auto& f : fused) ids.push_back(f.id);
  MNEMO_ASSIGN_OR_RETURN(auto rows, store::FetchMatching(db, ids, req.filter));
  if (req.filter.as_of) {
    for (auto& m : rows) MNEMO_RETURN_IF_ERROR(RewindTo(db, *req.filter.as_of, &m));
  }
  std::unordered_map<MemoryId, Memory*> by_id;
  for (auto& m : rows) by_id[m.id] = &m;
  const TimeMs now = req.now.value_or(Now());  // retention's reference time
  std::vector<SearchHit> hits;
  hits.reserve(fused.size());
  for (auto& f : fused) {
    auto it = by_id.find(f.id);
    if (it == by_id.end()) continue;  // changed between candidate and fetch
    SearchHit h;
    h.memory = std::move(*it->second);
    h.score = f.score;
    if (req.explain) {
      h.explanation = std::move(f.signals);
      if (vector_off) h.explanation.push_back(off_note);
    }
    if (req.summary_weight != 1 && h.memory.kind == Kind::kSummary &&
        h.memory.origin == Origin::kDerived) {
      const double weighted = h.score * req.summary_weight;
      if (req.explain) {
        h.explanation.push_back(
            SignalExplanation{"summary_weight", 0, req.summary_weight, weighted - h.score});
      }
      h.score = weighted;
    }
    if (req.retention_weight > 0) {
      const double r = lifecycle::Retention(lifecycle::RecallStateOf(h.memory), now, *lifecycle_);
      const double scored = h.score * lifecycle::RetentionFactor(r, req.retention_weight);
      if (req.explain)
        h.explanation.push_back(SignalExplanation{"retention", 0, r, scored - h.score});
      h.score = scored;
    }
    hits.push_back(std::move(h));
  }
  if (rerank) {
    std::stable_sort(hits.begin(), hits.end(),
                     [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
    if (hits.size() > k) hits.resize(k);
  }
  if (req.summary_episodes > 0 && !hits.empty()) {
    MNEMO_RETURN_IF_ERROR(ExpandSummaryHits(db, req, &hits));
  }
  if (req.expand_links && !hits.empty()) MNEMO_RETURN_IF_ERROR(ExpandLinks(db, req, &hits));
  RecordRecalls(hits, Now());
  return hits;
}

// Adds, after the hits, the memories linked to them (related, supersedes, derived from:
// a fact brings its episodes and its neighbours), each scored parent x weight / 2, at most
// k of them, through the request's filter like every other result.
Status Space::ExpandLinks(store::Db& db, const SearchRequest& req, std::vector<SearchHit>* hits) {
  std::unordered_map<MemoryId, double> parent_score;
  std::vector<MemoryId> ids;
  for (const auto& h : *hits) {
    parent_score[h.memory.id] = h.score;
    ids.push_back(h.memory.id);
  }
  std::unordered_map<MemoryId, std::pair<double, double>> linked;  // id -> (score, weight)
  for (LinkType type : {LinkType::kRelated, LinkType::kSupersedes, LinkType::kDerivedFrom}) {
    MNEMO_ASSIGN_OR_RETURN(auto links, store::LinksTouching(db, ids, type));
    for (const auto& l : links) {
      for (auto [from, to] : {std::pair{l.from, l.to}, std::pair{l.to, l.from}}) {
        auto parent = parent_score.find(from);
        if (parent == parent_score.end() || parent_score.count(to)) continue;
        const double score = parent->second * l.weight * 0.5;
        auto& best = linked[to];
        if (score > best.first) best = {score, l.weight};
      }
    }
  }
  std::vector<MemoryId> extra;
  for (const auto& [id, s] : linked) extra.push_back(id);
  MNEMO_ASSIGN_OR_RETURN(auto rows, store::FetchMatching(db, extra, req.filter));
  std::vector<SearchHit> added;
  for (auto& m : rows) {
    SearchHit h;
    const auto [score, weight] = linked[m.id];
    h.score = score;
    h.memory = std::move(m);
    if (req.explain) h.explanation.push_back(SignalExplanation{"link", 0, weight, score});
    added.push_back(std::move(h));
  }
  std::sort(added.begin(), added.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.memory.id < b.memory.id;
  });
  if (added.size() > static_cast<size_t>(req.k)) added.resize(static_cast<size_t>(req.k));
  for (auto& h : added) hits->push_back(std::move(h));
  return Status::Ok();
}

}  // namespace mnemo::engine
