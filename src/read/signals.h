// Query signals: adjustments of a retrieval signal's candidate list from what the lexical
// index knows of each memory — its session, the messages next to it, its event time. Each
// is bounded by the list it adjusts: it reads the attributes of at most `limit`
// candidates and of their two neighbours, never the whole space, so its share of a
// search does not grow with the space (docs/benchmarks.md reports it per signal).
//
// Thread safety: pure functions over a View, which holds the index's shared lock.
#pragma once

#include <functional>
#include <unordered_set>
#include <vector>

#include "index/lexical_index.h"
#include "mnemo/status.h"
#include "read/fusion.h"
#include "read/query.h"

namespace mnemo::read {

// Which of `ids` pass the request's filter (memories entering a list through a signal
// must). The index answers for the filters it evaluates; the others ask SQLite.
using PassingFn =
    std::function<Result<std::unordered_set<MemoryId>>(const std::vector<MemoryId>& ids)>;

// Sorts by raw score, best first; ties by smaller id.
void SortRanked(std::vector<Ranked>* ranked);

// Conversation context (SearchRequest::context_weight): each candidate earns
// kContextForward x weight x the (non-negative) score of the message before it and
// kContextBackward x weight x the score of the message after it (ingest's "next" links);
// a neighbour outside the list enters it with what it earns, if it passes. The list is
// then re-sorted and cut to `limit`.
inline constexpr double kContextForward = 1.5;
inline constexpr double kContextBackward = 0.5;
Status AddConversationContext(const index::LexicalIndex::View& view, double weight, size_t limit,
                              const PassingFn& passing, Signal* signal);

// Session prior (SearchRequest::session_weight): each candidate in a session earns
// weight x the best score in the list of any memory of that (user, session).
void AddSessionPrior(const index::LexicalIndex::View& view, double weight, Signal* signal);

// Dates in the query (SearchRequest::date_weight): for each window, `in_window` gives the
// lexical matches inside it (widened by a day on both sides: events are often told the
// day after); a memory found there scores (1 + weight) x its BM25 (its best window), and
// may enter the list. Re-sorted and cut to `limit`.
inline constexpr TimeMs kDateWindowPad = 24LL * 3600 * 1000;
using WindowSearchFn =
    std::function<Result<std::vector<index::LexicalHit>>(TimeMs from, TimeMs to)>;
Status AddDateWindows(const std::vector<DateMention>& windows, double weight, size_t limit,
                      const WindowSearchFn& in_window, Signal* signal);

}  // namespace mnemo::read
