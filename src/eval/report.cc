// EvalReport -> JSON and a readable table (declared in runner.h).
#include <algorithm>
#include <cstdio>

#include "eval/runner.h"

namespace mnemo::eval {
namespace {

using util::Json;

std::string_view FusionName(Fusion f) { return f == Fusion::kWeighted ? "weighted" : "rrf"; }

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string PadLeft(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string PadRight(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// Categories that were scored, in the report's order, then any others.
std::vector<std::string> ScoredCategories(const EvalReport& r) {
  std::vector<std::string> out;
  for (const auto& c : r.category_order) {
    if (r.metrics.Questions(c) > 0) out.push_back(c);
  }
  for (const auto& c : r.metrics.Categories()) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

}  // namespace

Json ReportToJson(const EvalReport& r) {
  Json by_category = Json::object();
  for (const auto& c : ScoredCategories(r)) {
    Json m(r.metrics.Category(c));
    m["questions"] = r.metrics.Questions(c);
    by_category[c] = std::move(m);
  }
  return {
      {"dataset", r.dataset},
      {"questions", r.questions},
      {"skipped", r.skipped},
      {"overall", Json(r.metrics.Overall())},
      {"by_category", std::move(by_category)},
      {"latency_ms", {{"mean", r.latency.mean_ms}, {"p99", r.latency.p99_ms}}},
      {"data",
       {{"memories", r.ingested.added},
        {"users", r.ingested.users},
        {"records_skipped", r.load.skipped_records},
        {"evidence_dropped", r.load.dropped_evidence},
        {"empty_turns", r.load.empty_turns},
        {"repeated_sessions", r.load.repeated_sessions}}},
      {"config",
       {{"k", r.config.ks},
        {"session_k", r.config.session_ks},
        {"search_k", r.config.SearchK()},
        {"fusion", FusionName(r.config.search.fusion)},
        {"lexical_weight", r.config.search.lexical_weight},
        {"vector_weight", r.config.search.vector_weight},
        {"context_weight", r.config.search.context_weight},
        {"session_weight", r.config.search.session_weight},
        {"date_weight", r.config.search.date_weight},
        {"embedder", r.embedder}}},
  };
}

std::string ReportToTable(const EvalReport& r) {
  std::vector<std::string> columns = ScoredCategories(r);
  columns.push_back("overall");
  size_t first = 9;  // "questions"
  for (const auto& m : r.metric_order) first = std::max(first, m.size());
  std::vector<size_t> widths;
  for (const auto& c : columns) widths.push_back(std::max<size_t>(c.size(), 6));

  std::string out = r.dataset + ": " + std::to_string(r.questions) + " questions scored, " +
                    std::to_string(r.skipped) + " skipped; " + std::to_string(r.ingested.added) +
                    " memories in " + std::to_string(r.ingested.users) + " user scopes\n";
  if (r.load.skipped_records > 0 || r.load.dropped_evidence > 0) {
    out += "input: " + std::to_string(r.load.skipped_records) + " malformed records skipped, " +
           std::to_string(r.load.dropped_evidence) + " malformed evidence ids dropped\n";
  }
  if (r.load.repeated_sessions > 0) {
    out += "input: " + std::to_string(r.load.repeated_sessions) +
           " haystack sessions repeat a session id of their record (taken by position, "
           "scored by id)\n";
  }
  out += "\n" + PadRight("metric", first);
  for (size_t i = 0; i < columns.size(); ++i) out += "  " + PadLeft(columns[i], widths[i]);
  out += "\n" + PadRight("questions", first);
  for (size_t i = 0; i < columns.size(); ++i) {
    const int64_t n = columns[i] == "overall" ? r.questions : r.metrics.Questions(columns[i]);
    out += "  " + PadLeft(std::to_string(n), widths[i]);
  }
  out += "\n";
  const auto overall = r.metrics.Overall();
  for (const auto& metric : r.metric_order) {
    out += PadRight(metric, first);
    for (size_t i = 0; i < columns.size(); ++i) {
      const auto values = columns[i] == "overall" ? overall : r.metrics.Category(columns[i]);
      auto it = values.find(metric);
      out += "  " + PadLeft(it == values.end() ? "-" : Fixed(it->second, 3), widths[i]);
    }
    out += "\n";
  }
  out += "\nsearch latency (ms): mean " + Fixed(r.latency.mean_ms, 3) + ", p99 " +
         Fixed(r.latency.p99_ms, 3) + " over " + std::to_string(r.latency.samples) + " searches\n";
  out += "config: fusion " + std::string(FusionName(r.config.search.fusion)) + ", lexical weight " +
         Fixed(r.config.search.lexical_weight, 2) + ", vector weight " +
         Fixed(r.config.search.vector_weight, 2) + ", context weight " +
         Fixed(r.config.search.context_weight, 2) + ", session weight " +
         Fixed(r.config.search.session_weight, 2) + ", date weight " +
         Fixed(r.config.search.date_weight, 2) + ", k " + std::to_string(r.config.SearchK()) +
         ", embedder " + r.embedder;
  return out;
}

}  // namespace mnemo::eval
