#include "eval_cmd.h"

#include <algorithm>
#include <iostream>

#include "eval/integrity.h"
#include "eval/locomo.h"
#include "eval/longmemeval.h"
#include "eval/runner.h"
#include "eval/scratch_dir.h"
#include "mnemo/engine.h"
#include "mnemo/search_params.h"
#include "progress.h"

namespace mnemo::cli {
namespace {

// Benchmark files are trusted input that is loaded as a whole: LongMemEval has turns
// over the default 64 KiB text limit, and a conversation is one Ingest call.
Options DatasetOptions(Options o = Options()) {
  o.max_batch = 10'000'000;
  o.max_text_bytes = 1 << 20;
  return o;
}

void ReportProblems(const eval::LoadStats& stats) {
  for (const auto& p : stats.problems) std::cerr << "mnemo: skipped " << p << "\n";
}

Status ValidateKs(const std::vector<int>& ks) {
  for (int k : ks) {
    if (k < 1 || k > 1000) return Status::InvalidArgument("--k values must be between 1 and 1000");
  }
  return Status::Ok();
}

// Loads the dataset, runs `evaluate` on a fresh engine, prints the report.
template <typename Dataset, typename Fn>
int Evaluate(const Result<Dataset>& data, Fn evaluate, const Output& out, bool summaries) {
  if (!data.ok()) return out.Fail(data.status());
  ReportProblems(data->stats);
  auto scratch = eval::ScratchDir::Create("mnemo-eval-");
  if (!scratch.ok()) return out.Fail(scratch.status());
  Options o = DatasetOptions();
  // Retrieval is scored on the conversation turns: derived memories would compete with
  // the evidence they came from, so the evaluation measures episodes alone (with
  // --summaries: episodes and the summaries of their sessions and topics).
  o.pipeline.enabled = summaries;
  o.pipeline.use_model = false;
  o.create_if_missing = true;
  o.durability = Durability::kNormal;  // a throwaway directory needs no fsync per write
  auto engine = Engine::Open((*scratch)->path() + "/data", o);
  if (!engine.ok()) return out.Fail(engine.status());
  const std::string space = "eval";
  if (Status s = (*engine)->CreateSpace(space); !s.ok()) return out.Fail(s);
  auto report = evaluate(**engine, space, *data);
  if (!report.ok()) return out.Fail(report.status());
  out.Emit(eval::ReportToJson(*report), eval::ReportToTable(*report));
  return kExitOk;
}

}  // namespace

EvalCommands RegisterEval(CLI::App* app, EvalArgs* args) {
  EvalCommands c;
  c.eval = app->add_subcommand(
      "eval", "measure retrieval or extraction on a benchmark (in a temporary data dir)");
  c.eval->require_subcommand(1);
  c.locomo = c.eval->add_subcommand("locomo", "LoCoMo: turn- and session-level recall and NDCG");
  c.longmemeval = c.eval->add_subcommand("longmemeval",
                                         "LongMemEval: its retrieval protocol (sessions, turns)");
  for (CLI::App* cmd : {c.locomo, c.longmemeval}) {
    cmd->add_option("FILE", args->file, "the benchmark's JSON file")->required();
    cmd->add_option("--k", args->ks, "cutoffs, e.g. 1,5,10 (default: the protocol's)")
        ->delimiter(',');
    cmd->add_option("--fusion", args->fusion, "rrf (default) or weighted");
    AddSearchParamFlags(cmd, &args->tuning);
    cmd->add_flag("--summaries", args->summaries,
                  "summarize sessions and topics (rules, no model) and search episodes and "
                  "summaries");
    cmd->add_flag("--skip-bad", args->skip_bad, "skip and count malformed records");
  }
  c.integrity = c.eval->add_subcommand(
      "integrity", "extraction integrity: precision, recall and update accuracy of derived facts");
  c.integrity->add_option("FILE", args->file, "the labelled set (JSONL, docs/benchmarks.md)")
      ->required();
  c.integrity->add_flag("--model", args->model,
                        "extract with the configured chat model (chat.base_url ...) instead of "
                        "the rules");
  c.integrity->add_flag("--misses", args->misses, "list every missed, wrong or stale fact");
  return c;
}

int RunEval(const std::string& dataset, const EvalArgs& args, const Output& out) {
  eval::EvalConfig config =
      dataset == "locomo" ? eval::EvalConfig::ForLocomo() : eval::EvalConfig::ForLongMemEval();
  if (Status s = ValidateKs(args.ks); !s.ok()) return out.Fail(s);
  if (!args.ks.empty()) {
    std::vector<int> ks = args.ks;
    std::sort(ks.begin(), ks.end());
    ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
    config.ks = config.session_ks = ks;
  }
  if (args.fusion == "weighted") {
    config.search.fusion = Fusion::kWeighted;
  } else if (args.fusion != "rrf") {
    return out.Fail(Status::InvalidArgument("--fusion must be rrf or weighted"));
  }
  for (const SearchParam& p : SearchParams()) p.Set(&config.search, p.Get(args.tuning));
  if (Status s = CheckSearchParams(config.search); !s.ok()) return out.Fail(s);
  config.summaries = args.summaries;
  if (args.summaries) config.search.filter.kinds = {Kind::kEpisode, Kind::kSummary};
  eval::ParseOptions parse;
  parse.skip_bad = args.skip_bad;
  ProgressLine ingesting("ingesting", "users"), searching("searching", "questions");
  config.ingest_progress = ingesting.Callback();
  config.search_progress = [&](int64_t done, int64_t total) {
    ingesting.Done();
    searching.Update(done, total);
  };
  if (dataset == "locomo") {
    return Evaluate(
        eval::LoadLocomo(args.file, parse),
        [&](Engine& e, const std::string& space, const eval::LocomoDataset& d) {
          auto report = eval::EvalLocomo(e, space, d, config);
          searching.Done();  // before the report is printed
          return report;
        },
        out, config.summaries);
  }
  return Evaluate(
      eval::LoadLongMemEval(args.file, parse),
      [&](Engine& e, const std::string& space, const eval::LongMemEvalDataset& d) {
        auto report = eval::EvalLongMemEval(e, space, d, config);
        searching.Done();
        return report;
      },
      out, config.summaries);
}

int RunIntegrityEval(const std::string& data, const EvalArgs& args, const Output& out) {
  auto set = eval::LoadIntegrity(args.file);
  if (!set.ok()) return out.Fail(set.status());
  // The chat model comes from the configuration (config.json of --data, MNEMO_*, --set).
  Options o;
  if (args.model) {
    auto configured = EngineOptions(data);
    if (!configured.ok()) return out.Fail(configured.status());
    if (configured->chat_model == nullptr) {
      return out.Fail(Status::InvalidArgument(
          "--model needs a chat model: set chat.base_url and chat.model (config.json, "
          "MNEMO_CHAT_BASE_URL, or --set chat.base_url=...)"));
    }
    o = *configured;
    o.pipeline.use_model = true;
  }
  o.background_jobs = false;
  o.pipeline.enabled = true;
  o.create_if_missing = true;
  o.durability = Durability::kNormal;
  auto scratch = eval::ScratchDir::Create("mnemo-eval-");
  if (!scratch.ok()) return out.Fail(scratch.status());
  const std::string extractor = args.model ? o.chat_model->id() : "rules";
  auto engine = Engine::Open((*scratch)->path() + "/data", o);
  if (!engine.ok()) return out.Fail(engine.status());
  ProgressLine progress("evaluating", "conversations");
  auto report = eval::EvalIntegrity(**engine, *set, extractor, progress.Callback());
  progress.Done();
  if (!report.ok()) return out.Fail(report.status());
  out.Emit(eval::IntegrityReportToJson(*report),
           eval::IntegrityReportToTable(*report, args.misses));
  return kExitOk;
}

int IngestDataset(const std::string& data, const std::string& space, const std::string& format,
                  const std::string& file, bool skip_bad, const Output& out) {
  if (format != "locomo" && format != "longmemeval") {
    return out.Fail(Status::InvalidArgument("--format must be locomo or longmemeval"));
  }
  eval::ParseOptions parse;
  parse.skip_bad = skip_bad;
  // Parse the whole file before opening the store: a malformed file writes nothing.
  std::optional<eval::LocomoDataset> locomo;
  std::optional<eval::LongMemEvalDataset> lme;
  const eval::LoadStats* stats = nullptr;
  if (format == "locomo") {
    auto d = eval::LoadLocomo(file, parse);
    if (!d.ok()) return out.Fail(d.status());
    locomo = std::move(d).value();
    stats = &locomo->stats;
  } else {
    auto d = eval::LoadLongMemEval(file, parse);
    if (!d.ok()) return out.Fail(d.status());
    lme = std::move(d).value();
    stats = &lme->stats;
  }
  ReportProblems(*stats);
  auto configured = EngineOptions(data);
  if (!configured.ok()) return out.Fail(configured.status());
  auto engine = Engine::Open(data, DatasetOptions(*configured));
  if (!engine.ok()) return out.Fail(engine.status());
  ProgressLine ingesting("ingesting", "users");
  auto counts = locomo ? eval::IngestLocomo(**engine, space, *locomo, ingesting.Callback())
                       : eval::IngestLongMemEval(**engine, space, *lme, ingesting.Callback());
  ingesting.Done();
  if (!counts.ok()) return out.Fail(counts.status());
  // As for `mnemo ingest`: without a chat model the rules run before the command returns.
  if (configured->chat_model == nullptr) {
    ProgressLine progress("deriving", "jobs");
    if (Status s = (*engine)->RunJobs(space, /*summaries_now=*/false, progress.Callback());
        !s.ok()) {
      std::cerr << "mnemo: warning: derivation postponed: " << s.message() << "\n";
    } else {
      progress.Done();
    }
  }
  const int64_t skipped = stats->skipped_records;
  out.Emit({{"added", counts->added}, {"users", counts->users}, {"skipped", skipped}},
           "added " + std::to_string(counts->added) + " memories for " +
               std::to_string(counts->users) + " users" +
               (skipped > 0 ? " (" + std::to_string(skipped) + " malformed records skipped)" : ""));
  return kExitOk;
}

}  // namespace mnemo::cli
