#include "eval/runner.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace mnemo::eval {
namespace {

using util::Json;

std::string Cut(const std::string& metric, int k) { return metric + "@" + std::to_string(k); }

// The metadata of a hit as an object ({} if it does not parse, which cannot happen for
// memories the engine validated).
Json MetaOf(const Memory& m) {
  auto j = util::ParseStoredJson(m.metadata);
  return j.ok() && j->is_object() ? std::move(j).value() : Json::object();
}

class Searcher {
 public:
  Searcher(Engine& engine, const std::string& space, const EvalConfig& config)
      : engine_(engine), space_(space), config_(config) {}

  Result<std::vector<SearchHit>> Search(const std::string& user, const std::string& query) {
    SearchRequest req = config_.search;
    req.query = query;
    req.filter.user_id = user;
    req.k = config_.SearchK();
    const auto start = std::chrono::steady_clock::now();
    auto hits = engine_.Search(space_, req);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    latencies_.push_back(took.count());
    return hits;
  }

  LatencySummary Latency() const { return SummarizeLatency(latencies_); }

 private:
  Engine& engine_;
  const std::string& space_;
  const EvalConfig& config_;
  std::vector<double> latencies_;
};

Status IngestOne(Engine& engine, const std::string& space, const std::string& user,
                 const std::vector<Message>& messages, IngestCounts* counts) {
  if (messages.empty()) return Status::Ok();
  auto r = engine.Ingest(space, user, messages);
  if (!r.ok()) return r.status().WithContext("ingesting user '" + user + "'");
  counts->added += static_cast<int64_t>(r->ids.size());
  ++counts->users;
  return Status::Ok();
}

// Shared tail of both evaluations: the embedder id and the latency summary.
Status Finish(Engine& engine, const std::string& space, const Searcher& searcher,
              EvalReport* report) {
  auto stats = engine.Stats(space);
  if (!stats.ok()) return stats.status();
  report->embedder = stats->embedder;
  report->latency = searcher.Latency();
  report->questions = report->metrics.TotalQuestions();
  return Status::Ok();
}

}  // namespace

EvalConfig EvalConfig::ForLocomo() {
  EvalConfig c;
  c.ks = {1, 5, 10, 25, 50};
  c.session_ks = c.ks;
  return c;
}

EvalConfig EvalConfig::ForLongMemEval() {
  EvalConfig c;
  c.ks = {5, 10, 50};
  c.session_ks = {5, 10};
  return c;
}

int EvalConfig::SearchK() const {
  int k = 1;
  for (int v : ks) k = std::max(k, v);
  for (int v : session_ks) k = std::max(k, v);
  return k;
}

Result<IngestCounts> IngestLocomo(Engine& engine, const std::string& space,
                                  const LocomoDataset& data, const Progress& progress) {
  IngestCounts counts;
  const auto total = static_cast<int64_t>(data.samples.size());
  int64_t done = 0;
  for (const auto& s : data.samples) {
    MNEMO_RETURN_IF_ERROR(IngestOne(engine, space, s.sample_id, s.messages, &counts));
    if (progress) progress(++done, total);
  }
  return counts;
}

Result<IngestCounts> IngestLongMemEval(Engine& engine, const std::string& space,
                                       const LongMemEvalDataset& data, const Progress& progress) {
  IngestCounts counts;
  const auto total = static_cast<int64_t>(data.questions.size());
  int64_t done = 0;
  for (const auto& q : data.questions) {
    MNEMO_RETURN_IF_ERROR(IngestOne(engine, space, q.question_id, q.messages, &counts));
    if (progress) progress(++done, total);
  }
  return counts;
}

Result<EvalReport> EvalLocomo(Engine& engine, const std::string& space, const LocomoDataset& data,
                              const EvalConfig& config) {
  EvalReport report;
  report.dataset = "locomo";
  report.config = config;
  report.load = data.stats;
  MNEMO_ASSIGN_OR_RETURN(report.ingested,
                         IngestLocomo(engine, space, data, config.ingest_progress));
  if (config.summaries) MNEMO_RETURN_IF_ERROR(engine.RunJobs(space));
  // Searching while the indexer still moves vectors into the graph would time the
  // ingest's tail, not search.
  MNEMO_RETURN_IF_ERROR(engine.WaitForIndexing());
  for (int c = 1; c <= 4; ++c) report.category_order.emplace_back(LocomoCategoryName(c));
  for (const char* m : {"recall_any", "recall_all", "ndcg"}) {
    for (int k : config.ks) report.metric_order.push_back(Cut(m, k));
  }
  for (int k : config.session_ks) report.metric_order.push_back(Cut("session_recall_any", k));

  Searcher searcher(engine, space, config);
  int64_t asked = 0, questions = 0;
  for (const auto& sample : data.samples)
    questions += static_cast<int64_t>(sample.questions.size());
  for (const auto& sample : data.samples) {
    for (const auto& q : sample.questions) {
      if (config.search_progress) config.search_progress(++asked, questions);
      if (q.category < 1 || q.category > 4 || q.evidence.empty()) {
        ++report.skipped;  // adversarial questions have nothing to retrieve
        continue;
      }
      const IdSet gold(q.evidence.begin(), q.evidence.end());
      IdSet gold_sessions;
      for (const auto& id : q.evidence) gold_sessions.insert(LocomoSessionOf(id));
      MNEMO_ASSIGN_OR_RETURN(auto hits, searcher.Search(sample.sample_id, q.question));
      std::vector<std::string> turns, sessions;
      for (const auto& h : hits) {
        const Json meta = MetaOf(h.memory);
        auto it = meta.find("dia_id");
        turns.push_back(it != meta.end() && it->is_string() ? it->get<std::string>() : "");
        sessions.push_back(h.memory.session_id);
      }
      sessions = DistinctInOrder(sessions);
      const std::string cat(LocomoCategoryName(q.category));
      report.metrics.CountQuestion(cat);
      for (int k : config.ks) {
        const auto kk = static_cast<size_t>(k);
        report.metrics.Add(cat, Cut("recall_any", k), RecallAny(turns, gold, kk));
        report.metrics.Add(cat, Cut("recall_all", k), RecallAll(turns, gold, kk));
        report.metrics.Add(cat, Cut("ndcg", k), Ndcg(turns, gold, kk));
      }
      for (int k : config.session_ks) {
        report.metrics.Add(cat, Cut("session_recall_any", k),
                           RecallAny(sessions, gold_sessions, static_cast<size_t>(k)));
      }
    }
  }
  MNEMO_RETURN_IF_ERROR(Finish(engine, space, searcher, &report));
  return report;
}

Result<EvalReport> EvalLongMemEval(Engine& engine, const std::string& space,
                                   const LongMemEvalDataset& data, const EvalConfig& config) {
  EvalReport report;
  report.dataset = "longmemeval";
  report.config = config;
  report.load = data.stats;
  MNEMO_ASSIGN_OR_RETURN(report.ingested,
                         IngestLongMemEval(engine, space, data, config.ingest_progress));
  if (config.summaries) MNEMO_RETURN_IF_ERROR(engine.RunJobs(space));
  MNEMO_RETURN_IF_ERROR(engine.WaitForIndexing());
  for (const char* m : {"recall_any", "recall_all", "ndcg_any"}) {
    for (int k : config.session_ks)
      report.metric_order.push_back(Cut(std::string("session_") + m, k));
  }
  for (const char* m : {"recall_any", "recall_all", "ndcg_any"}) {
    for (int k : config.ks) report.metric_order.push_back(Cut(m, k));
  }

  Searcher searcher(engine, space, config);
  int64_t asked = 0;
  const auto questions = static_cast<int64_t>(data.questions.size());
  for (const auto& q : data.questions) {
    if (config.search_progress) config.search_progress(++asked, questions);
    if (q.abstention() || (q.answer_session_ids.empty() && q.answer_turns.empty())) {
      ++report.skipped;
      continue;
    }
    MNEMO_ASSIGN_OR_RETURN(auto hits, searcher.Search(q.question_id, q.question));
    std::vector<std::string> turns, sessions;
    for (const auto& h : hits) {
      const Json meta = MetaOf(h.memory);
      // Scored by the file's session id (a repeated one is stored as "ID@POS").
      auto sid = meta.find("session_id");
      const std::string session =
          sid != meta.end() && sid->is_string() ? sid->get<std::string>() : h.memory.session_id;
      auto it = meta.find("turn");
      turns.push_back(
          it != meta.end() && it->is_number_integer() ? TurnKey(session, it->get<int64_t>()) : "");
      sessions.push_back(session);
    }
    sessions = DistinctInOrder(sessions);
    const std::string& cat = q.question_type;
    if (std::find(report.category_order.begin(), report.category_order.end(), cat) ==
        report.category_order.end()) {
      report.category_order.push_back(cat);
    }
    report.metrics.CountQuestion(cat);
    if (!q.answer_session_ids.empty()) {
      const IdSet gold(q.answer_session_ids.begin(), q.answer_session_ids.end());
      for (int k : config.session_ks) {
        const auto kk = static_cast<size_t>(k);
        report.metrics.Add(cat, Cut("session_recall_any", k), RecallAny(sessions, gold, kk));
        report.metrics.Add(cat, Cut("session_recall_all", k), RecallAll(sessions, gold, kk));
        report.metrics.Add(cat, Cut("session_ndcg_any", k),
                           Ndcg(sessions, gold, kk, Discount::kLongMemEval));
      }
    }
    if (!q.answer_turns.empty()) {
      const IdSet gold(q.answer_turns.begin(), q.answer_turns.end());
      for (int k : config.ks) {
        const auto kk = static_cast<size_t>(k);
        report.metrics.Add(cat, Cut("recall_any", k), RecallAny(turns, gold, kk));
        report.metrics.Add(cat, Cut("recall_all", k), RecallAll(turns, gold, kk));
        report.metrics.Add(cat, Cut("ndcg_any", k), Ndcg(turns, gold, kk, Discount::kLongMemEval));
      }
    }
  }
  MNEMO_RETURN_IF_ERROR(Finish(engine, space, searcher, &report));
  return report;
}

}  // namespace mnemo::eval
