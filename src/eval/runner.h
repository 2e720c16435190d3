// Runs a benchmark against an Engine: ingest every conversation into one space (one
// user scope each), one search per question in that scope, score the ranking.
//
// Scoring protocols:
//  - LoCoMo: questions of categories 1-4 with at least one evidence id. Turn level: a
//    result's id is the dia_id in its metadata; recall_any@k, recall_all@k, ndcg@k.
//    Session level: session_recall_any@k, where a session is relevant if it holds an
//    evidence turn and the ranking is the distinct sessions in result order.
//  - LongMemEval (the benchmark's retrieval protocol): abstention questions left out.
//    Session level at session_ks: session_recall_any@k, session_recall_all@k,
//    session_ndcg_any@k against answer_session_ids. Turn level at ks: recall_any@k,
//    recall_all@k, ndcg_any@k against the turns marked has_answer. ndcg_any uses
//    Discount::kLongMemEval.
// Latency is measured around Engine::Search only.
//
// Thread safety: functions take the engine by reference and use it from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/dataset.h"
#include "eval/locomo.h"
#include "eval/longmemeval.h"
#include "eval/metrics.h"
#include "mnemo/engine.h"
#include "util/json_codec.h"

namespace mnemo::eval {

struct EvalConfig {
  std::vector<int> ks;          // turn-level cutoffs; ascending
  std::vector<int> session_ks;  // session-level cutoffs; ascending
  // Every search starts from this request (the engine's defaults unless changed);
  // query, user and k are set per question.
  SearchRequest search;
  // Sleep-time summaries (docs/lifecycle.md): the engine runs its pipeline (the caller
  // enables it) and the evaluation flushes the job queue after ingesting, so that every
  // session has its summary before the first search.
  bool summaries = false;
  // Called after each user ingested and each question searched (the CLI's progress line).
  Progress ingest_progress;
  Progress search_progress;

  // Defaults of each protocol: LoCoMo 1,5,10,25,50 at both levels; LongMemEval 5,10,50
  // turns and 5,10 sessions.
  static EvalConfig ForLocomo();
  static EvalConfig ForLongMemEval();
  // Results per search: the largest cutoff of either level.
  int SearchK() const;
};

struct IngestCounts {
  int64_t added = 0;
  int64_t users = 0;
};

// Ingests each user's messages with one Engine::Ingest call (one transaction per user;
// users with no messages are skipped).
// `progress` (optional) counts users.
Result<IngestCounts> IngestLocomo(Engine& engine, const std::string& space,
                                  const LocomoDataset& data, const Progress& progress = nullptr);
Result<IngestCounts> IngestLongMemEval(Engine& engine, const std::string& space,
                                       const LongMemEvalDataset& data,
                                       const Progress& progress = nullptr);

struct EvalReport {
  std::string dataset;    // "locomo" or "longmemeval"
  int64_t questions = 0;  // scored
  int64_t skipped = 0;    // present in the file but outside the protocol
  MetricMeans metrics;
  std::vector<std::string> metric_order;    // names as they should be listed
  std::vector<std::string> category_order;  // categories as they should be listed
  LatencySummary latency;
  IngestCounts ingested;
  LoadStats load;
  EvalConfig config;
  std::string embedder;  // embedder id of the space
};

// Ingests `data` into `space` (which must exist and be empty), searches and scores.
Result<EvalReport> EvalLocomo(Engine& engine, const std::string& space, const LocomoDataset& data,
                              const EvalConfig& config);
Result<EvalReport> EvalLongMemEval(Engine& engine, const std::string& space,
                                   const LongMemEvalDataset& data, const EvalConfig& config);

// {"dataset","questions","skipped","overall":{...},"by_category":{name:{...,"questions"}},
//  "latency_ms":{"mean","p99"},"data":{...},"config":{...}}
util::Json ReportToJson(const EvalReport& report);
// A fixed-width table: one row per metric, one column per category and overall.
std::string ReportToTable(const EvalReport& report);

}  // namespace mnemo::eval
