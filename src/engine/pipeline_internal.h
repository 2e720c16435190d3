// Private to src/engine: what the pipeline's job runner (pipeline.cc) and its write side
// (pipeline_apply.cc) share.
#pragma once

#include <string>
#include <vector>

#include "engine/space.h"
#include "store/job_store.h"
#include "write/consolidate.h"
#include "write/extract_rules.h"

namespace mnemo::engine {

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

// A job group's extraction, waiting to be written: groups of one round are written
// together (Space::ApplyGroups), a bounded number per transaction.
struct Space::ExtractedGroup {
  std::vector<Job> jobs;
  std::vector<Derivation> derivations;
  store::JobOutcome usage;
  size_t episodes = 0;
};

namespace pipeline {

inline constexpr const char* kActor = "pipeline";

// UTC day of `t`, "YYYY-MM-DD" (the usage table's key).
std::string Day(TimeMs t);

// What consolidation knows of a stored derived memory.
write::Neighbour NeighbourOf(const Memory& m, double similarity);

}  // namespace pipeline
}  // namespace mnemo::engine
