// Fusion of ranked candidate lists into one ranking with a per-signal account.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/query.h"

namespace mnemo::read {

struct Ranked {
  MemoryId id = 0;
  double raw = 0;  // the signal's own score, higher is better
};

struct Fused {
  MemoryId id = 0;
  double score = 0;
  std::vector<SignalExplanation> signals;  // one per signal, in input order
};

struct Signal {
  std::string name;  // "lexical", "vector"
  double weight = 1.0;
  std::vector<Ranked> ranked;  // best first
};

// Combines the signals. RRF: score = sum of weight / (rrf_k + rank). Weighted: score =
// sum of weight * (raw - min) / (max - min) over the signal's list (1 when all equal).
// Ties break by smaller id (older first), so results are deterministic.
std::vector<Fused> Fuse(const std::vector<Signal>& signals, Fusion fusion, int rrf_k);

}  // namespace mnemo::read
