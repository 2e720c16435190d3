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
#include "mnemo/search_params.h"
#include "read/fusion.h"
#include "read/query.h"
#include "read/signals.h"
#include "store/memory_store.h"
#include "write/extract_rules.h"

namespace mnemo::engine {
namespace {

// The HNSW over-fetch for a filtered search never exceeds this many neighbours.
constexpr size_t kMaxGraphFetch = 5000;

// True when `f` selects by user (or all users) and state only.
bool OnlyScope(const Filter& f) {
  return f.agent_id.empty() && f.session_id.empty() && f.kinds.empty() && !f.time_from &&
         !f.time_to && f.tags.empty() && f.meta_equals.empty() && f.expression.empty();
}

}  // namespace

bool Space::OwnsWholeSpace(const std::string& user) {
  std::lock_guard<std::mutex> lock(counts_mu_);
  auto it = user_counts_.find(user);
  return it != user_counts_.end() && it->second == total_count_;
}

Status Space::CheckScope(const Filter& f) {
  if (f.all_users && !f.user_id.empty()) {
    return Status::InvalidArgument("give either a user or all users, not both")
        .WithField("all_users");
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
                                   " users: name one, or search all of them explicitly")
        .WithField("user");
  }
  return Status::Ok();
}

Result<std::vector<std::pair<MemoryId, double>>> Space::VectorCandidates(
    store::Db& db, const index::LexicalIndex::View& view, const std::vector<float>& q,
    const Filter& f, size_t n, const index::VectorIndex* index) {
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
  const bool indexed = store::IndexEvaluates(f);
  const index::LexicalFilter lf = ToLexicalFilter(f);
  const auto exact_limit = static_cast<int64_t>(ctx_->options.exact_scan_limit);
  const bool whole_space = scope == total && OnlyScope(f);
  if (!whole_space && (scope <= exact_limit || !OnlyScope(f))) {
    // A part of the space: score exactly the memories that match, if not too many.
    std::vector<MemoryId> ids;
    if (indexed) {
      bool more = false;
      ids = view.Matching(lf, static_cast<size_t>(exact_limit) + 1, &more);
    } else {
      MNEMO_ASSIGN_OR_RETURN(ids, store::MatchingIds(db, f, static_cast<size_t>(exact_limit) + 1));
    }
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
  // what passes the filter, and widen while too little passed and the index may hold more.
  const double fraction =
      static_cast<double>(scope) / static_cast<double>(std::max<int64_t>(total, 1));
  size_t fetch = std::min(kMaxGraphFetch,
                          static_cast<size_t>(std::ceil(static_cast<double>(n) * 2 / fraction)));
  fetch = std::max(fetch, n + 16);
  for (;;) {
    const auto neighbors = total <= exact_limit
                               ? index->ScanAll(q, fetch)
                               : index->Search(q, fetch, std::max<size_t>(fetch, 64));
    std::unordered_set<MemoryId> pass;
    if (indexed) {
      for (const auto& nb : neighbors) {
        if (view.Passes(nb.id, lf)) pass.insert(nb.id);
      }
    } else {
      std::vector<MemoryId> ids;
      ids.reserve(neighbors.size());
      for (const auto& nb : neighbors) ids.push_back(nb.id);
      MNEMO_ASSIGN_OR_RETURN(pass, store::PassingIds(db, ids, f));
    }
    out.clear();
    for (const auto& nb : neighbors) {
      if (out.size() >= n) break;
      if (pass.count(nb.id)) out.emplace_back(nb.id, nb.similarity);
    }
    if (out.size() >= n || neighbors.size() < fetch || fetch >= kMaxGraphFetch) return out;
    fetch = std::min(kMaxGraphFetch, fetch * 4);
  }
}

Status Space::ValidateSearch(const SearchRequest& req) const {
  MNEMO_RETURN_IF_ERROR(ValidateText(req.query, "query"));
  if (req.k < 1 || req.k > ctx_->options.max_k) {
    return Status::InvalidArgument("k must be between 1 and " + std::to_string(ctx_->options.max_k))
        .WithField("k");
  }
  MNEMO_RETURN_IF_ERROR(CheckSearchParams(req));  // mnemo/search_params.h
  if (req.filter.time_from && req.filter.time_to && *req.filter.time_to <= *req.filter.time_from) {
    return Status::InvalidArgument("the time range is empty (until is not after since)")
        .WithField("until");
  }
  return Status::Ok();
}

// The lexical signal: BM25 candidates, then the query's dates, conversation context and
// the session prior (read/signals.h).
Result<read::Signal> Space::LexicalSignal(store::Db& db, const index::LexicalIndex::View& view,
                                          const SearchRequest& req, size_t per_signal,
                                          const read::PassingFn& passing) {
  read::Signal lexical{"lexical", req.lexical_weight, {}};
  const std::vector<std::string> terms = read::QueryTerms(req.query);
  if (!terms.empty()) {
    MNEMO_ASSIGN_OR_RETURN(auto hits, LexicalCandidates(db, view, terms, req.filter, per_signal));
    for (const auto& h : hits) lexical.ranked.push_back(read::Ranked{h.id, h.score});
    if (req.date_weight > 0) {
      const TimeMs now = req.now.value_or(Now());
      auto windows = read::DateMentions(req.query);
      // Relative expressions ("last week") need the reference time; absolute ones are
      // found by both parsers, which is harmless (a memory keeps its best window score).
      for (const auto& t : write::ResolveTimes(req.query, now)) {
        windows.push_back(read::DateMention{t.start, t.end_time});
      }
      // Expressions anchored on an event ("two days before the wedding"): anchors.h.
      const AnchorSearchFn anchor_search = [&](const std::vector<std::string>& anchor_terms,
                                               const Filter& f) -> Result<std::vector<Memory>> {
        MNEMO_ASSIGN_OR_RETURN(auto found,
                               LexicalCandidates(db, view, anchor_terms, f, kAnchorCandidates));
        std::vector<MemoryId> ids;
        for (const auto& h : found) ids.push_back(h.id);
        MNEMO_ASSIGN_OR_RETURN(auto rows, store::FetchMatching(db, ids, f));
        std::unordered_map<MemoryId, size_t> rank;
        for (size_t i = 0; i < ids.size(); ++i) rank[ids[i]] = i;
        std::sort(rows.begin(), rows.end(),
                  [&](const Memory& a, const Memory& b) { return rank[a.id] < rank[b.id]; });
        return rows;
      };
      MNEMO_ASSIGN_OR_RETURN(auto anchored, AnchoredWindows(req, now, anchor_search));
      windows.insert(windows.end(), anchored.begin(), anchored.end());
      const read::WindowSearchFn in_window =
          [&](TimeMs from, TimeMs to) -> Result<std::vector<index::LexicalHit>> {
        Filter f = req.filter;  // intersect with the request's own time range
        f.time_from = f.time_from ? std::max(*f.time_from, from) : from;
        f.time_to = f.time_to ? std::min(*f.time_to, to) : to;
        if (*f.time_to <= *f.time_from) return std::vector<index::LexicalHit>();
        return LexicalCandidates(db, view, terms, f, per_signal);
      };
      MNEMO_RETURN_IF_ERROR(
          read::AddDateWindows(windows, req.date_weight, per_signal, in_window, &lexical));
    }
  }
  MNEMO_RETURN_IF_ERROR(
      read::AddConversationContext(view, req.context_weight, per_signal, passing, &lexical));
  read::AddSessionPrior(view, req.session_weight, &lexical);
  return lexical;
}

Result<std::vector<SearchHit>> Space::Search(const SearchRequest& request) {
  MNEMO_RETURN_IF_ERROR(ValidateSearch(request));
  // A copy only for a filter expression, whose scope conditions PrepareFilter hoists.
  std::optional<SearchRequest> prepared;
  if (!request.filter.expression.empty()) prepared = request;
  const SearchRequest& req = prepared ? *prepared : request;
  MNEMO_RETURN_IF_ERROR(prepared ? PrepareFilter(&prepared->filter)
                                 : CheckFilterSizes(request.filter));
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

  // Candidates per signal: 50 (or 2k) keeps LoCoMo and LongMemEval recall@10 where 100
  // had it (docs/benchmarks.md) at half the work of the largest searches.
  const size_t per_signal = std::max<size_t>(50, static_cast<size_t>(req.k) * 2);
  MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
  store::Db& db = *reader;
  std::vector<read::Signal> signals;
  {
    // The lexical index's view is held while the candidates are gathered (consistent
    // attributes and session links), then released before rows are read.
    const auto view = lexical_->Read();
    const bool indexed = store::IndexEvaluates(req.filter);
    const index::LexicalFilter lf = ToLexicalFilter(req.filter);
    const read::PassingFn passing =
        [&](const std::vector<MemoryId>& ids) -> Result<std::unordered_set<MemoryId>> {
      if (!indexed) return store::PassingIds(db, ids, req.filter);
      std::unordered_set<MemoryId> pass;
      for (MemoryId id : ids) {
        if (view.Passes(id, lf)) pass.insert(id);
      }
      return pass;
    };
    if (req.lexical_weight > 0) {
      MNEMO_ASSIGN_OR_RETURN(auto lexical, LexicalSignal(db, view, req, per_signal, passing));
      signals.push_back(std::move(lexical));
    }
    if (req.vector_weight > 0 && !vector_off) {
      read::Signal vector{"vector", req.vector_weight, {}};
      MNEMO_ASSIGN_OR_RETURN(auto hits, VectorCandidates(db, view, query_vector, req.filter,
                                                         per_signal, vectors->index.get()));
      for (auto& [id, s] : hits) vector.ranked.push_back(read::Ranked{id, s});
      MNEMO_RETURN_IF_ERROR(
          read::AddConversationContext(view, req.context_weight, per_signal, passing, &vector));
      signals.push_back(std::move(vector));
    }
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
  if (req.min_score > 0) {
    std::erase_if(hits, [&](const SearchHit& h) { return h.score < req.min_score; });
  }
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
