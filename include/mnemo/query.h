// mnemo/query.h — filters, listing with cursor pagination, and hybrid search.
//
// Thread safety: plain values, no internal synchronization.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mnemo/memory.h"

namespace mnemo {

// Quarantined memories (Memory::quarantine) in a list or search: left out (the default),
// included, or the only ones shown (to review them).
enum class QuarantineFilter { kExclude, kInclude, kOnly };
std::string_view QuarantineFilterName(QuarantineFilter q);  // "exclude", "include", "only"
Result<QuarantineFilter> ParseQuarantineFilter(std::string_view name);

// Filters shared by list and search. Empty fields do not filter.
//
// Scope rule (enforced by the engine, not left to callers): a search in a space that
// holds more than one user must name `user_id` or set `all_users`; naming both is an
// error.
struct Filter {
  std::string user_id;
  bool all_users = false;
  std::string agent_id;
  std::string session_id;
  std::vector<Kind> kinds;          // any of
  std::optional<TimeMs> time_from;  // event_time >= time_from (memories without one are excluded)
  std::optional<TimeMs> time_to;    // event_time <  time_to
  std::vector<std::string> tags;    // all of
  // Metadata equality: key -> JSON value text ("\"red\"", "3", "true"). All must match.
  std::vector<std::pair<std::string, std::string>> meta_equals;
  // A filter expression, as JSON text (docs/api.md, "Filter expressions"): conditions
  // over memory fields (user_id, kind, created_at, importance, tags, ...) and metadata
  // keys (metadata.KEY) with eq, ne, gt, gte, lt, lte, in, nin, contains, icontains,
  // combined with AND / OR / NOT, as in
  //   {"AND": [{"metadata.amount": {"gt": 50}}, {"NOT": {"tags": "draft"}}]}
  // It applies together with every other field here. Checked by the engine: an unknown
  // field or operator is an InvalidArgument naming its path. "" or "{}": none.
  std::string expression;
  bool include_retired = false;  // list/search retired memories too (--include-history)
  // Memories in tier archived (moved there by capacity limits; docs/lifecycle.md) are
  // left out unless this is set (--include-archived).
  bool include_archived = false;
  QuarantineFilter quarantined = QuarantineFilter::kExclude;
  LabelSet labels = 0;          // memories with any of these labels (0: no condition)
  LabelSet exclude_labels = 0;  // memories with none of these
  // Bi-temporal views (docs/lifecycle.md, "Time"). as_of: what mnemo held at that system
  // time (created by then, not yet retired then; each shown as its version at that time).
  // valid_at: what was true in the world then (valid_from <= T < valid_to), superseded
  // memories included, retracted ones (retired without a closed validity) not.
  std::optional<TimeMs> as_of;
  std::optional<TimeMs> valid_at;
};

struct ListRequest {
  Filter filter;
  // Page size: 1..Options::max_list_limit. Larger is an error, never a silent cap.
  int limit = 100;
  std::string cursor;       // "" for the first page, else ListPage::next_cursor
  bool descending = false;  // default: oldest first (ids are time-ordered)
};

struct ListPage {
  std::vector<Memory> memories;
  std::string next_cursor;  // "" when this is the last page
};

// One user of a space (Engine::ListUsers): how many active memories they own and the
// span of those memories' times (event time, else creation time).
struct UserInfo {
  std::string user;
  int64_t memories = 0;
  TimeMs first_time = 0;
  TimeMs last_time = 0;
};

struct UserPage {
  std::vector<UserInfo> users;  // ordered by user id
  std::string next_cursor;      // "" when this is the last page
};

enum class Fusion { kRrf, kWeighted };

struct SearchRequest {
  std::string query;  // non-empty, valid UTF-8
  Filter filter;
  int k = 10;  // 1..Options::max_k
  bool explain = false;
  Fusion fusion = Fusion::kRrf;
  // Fusion weights (0 turns a signal off). The defaults are measured with the builtin
  // embedder on LoCoMo (docs/benchmarks.md): its vectors rank conversation turns worse
  // than BM25, so they break ties and answer queries no term matches, without
  // reordering lexical matches. With a strong embedding model, raise vector_weight.
  double lexical_weight = 1.0;
  double vector_weight = 0.05;
  int rrf_k = 60;  // RRF constant: contribution = weight / (rrf_k + rank)
  // Conversation context: each candidate of a signal also earns a share of the score of
  // its neighbours in the session (by "next" links): 1.5 x context_weight of the message
  // before it, 0.5 x context_weight of the message after it; a neighbour that matched
  // nothing itself can enter the ranking this way. Short replies ("yes, it was
  // amazing!") are found through the question they answer. 0 turns it off.
  double context_weight = 0.35;
  // Session prior (lexical signal): each candidate in a session also earns
  // session_weight x the best lexical score of that session's candidates, so the
  // conversation that matched best rises as a whole. 0 turns it off.
  double session_weight = 0.8;
  // Dates in the query ("on 1 February, 2023", "in June 2022", "2023-02-01"; see
  // read::DateMentions) and relative expressions resolved against `now` ("yesterday",
  // "last week", "two months ago", "last Friday") and expressions anchored on an event
  // found in memory ("two days before the wedding", "since the move"; docs/lifecycle.md):
  // lexical matches whose event time lies
  // in the named period (a day of margin on each side) score (1 + date_weight) x their
  // BM25. 0 turns it off.
  double date_weight = 2.0;
  // The reference time of the query's relative expressions. Default: the clock.
  std::optional<TimeMs> now;
  // All three defaults are measured on LoCoMo (docs/benchmarks.md).
  // Retention (docs/lifecycle.md): each result's score is multiplied by
  // (1 - retention_weight) + retention_weight x R, where R in [0, 1] is the memory's
  // Ebbinghaus retention at `now`: memories not recalled for long, unimportant and rarely
  // recalled ones sink. 0 turns it off; at most 1.
  double retention_weight = 0.1;
  // A derived summary's score is multiplied by summary_weight before the k results are
  // chosen. At the default 0.5 a summary ranks below the turns that match about as well
  // (with RRF: below every turn ranked near it by a signal), so it shows when it matches
  // clearly better or few turns match; measured on LoCoMo (docs/benchmarks.md), where
  // summaries at full weight displace evidence turns. 1: no change; 0..1.
  double summary_weight = 0.5;
  // Coarse to fine: a summary among the results brings up to summary_episodes of the
  // episodes it summarizes that best match the query, right after it. 0 turns it off.
  int summary_episodes = 3;
  // Results scoring below this are left out (0: none). Scores are the fusion's (RRF
  // contributions unless kWeighted): see a hit's explanation for its scale.
  double min_score = 0;
  // After the k results, add up to k memories linked to them (related, supersedes,
  // derived_from: a derived fact brings the episodes it came from), scored parent score x
  // link weight / 2 and passing the same filter. Default false.
  bool expand_links = false;
};

// Per-signal account of one result's score. Ranks are 1-based; 0 = not retrieved by it.
struct SignalExplanation {
  std::string signal;  // "lexical", "vector", or "link" (SearchRequest::expand_links)
  int rank = 0;
  double raw = 0;           // BM25 score (higher is better) or cosine similarity
  double contribution = 0;  // what it added to the fused score
};

struct SearchHit {
  Memory memory;
  double score = 0;
  std::vector<SignalExplanation> explanation;  // filled when SearchRequest::explain
};

}  // namespace mnemo
