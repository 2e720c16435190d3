// `mnemo eval locomo|longmemeval FILE` and `mnemo ingest --format locomo|longmemeval`:
// the CLI faces of src/eval (benchmark adapters, metrics, runner).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli.h"
#include "mnemo/query.h"

namespace mnemo::cli {

struct EvalArgs {
  std::string file;
  std::vector<int> ks;  // empty: the protocol's defaults
  std::string fusion = "rrf";
  // The tuning parameters (mnemo/search_params.h); defaults are the engine's own, so a
  // bare `mnemo eval` measures what users get.
  SearchRequest tuning;
  // Summarize sessions and topics (rules) and search episodes and summaries.
  bool summaries = false;
  bool skip_bad = false;
  // eval integrity: extract with the configured chat model; list every difference.
  bool model = false;
  bool misses = false;
};

struct EvalCommands {
  CLI::App* eval = nullptr;
  CLI::App* locomo = nullptr;
  CLI::App* longmemeval = nullptr;
  CLI::App* integrity = nullptr;
};

// Adds `eval` with its two dataset subcommands to `app`; options land in `args`.
EvalCommands RegisterEval(CLI::App* app, EvalArgs* args);

// Runs the evaluation of `dataset` ("locomo" or "longmemeval") in a throwaway data
// directory under $TMPDIR and prints the report (a table, or one JSON object).
int RunEval(const std::string& dataset, const EvalArgs& args, const Output& out);

// `mnemo eval integrity FILE`: the extraction-integrity set (eval/integrity.h) through the
// write pipeline of a throwaway engine, with the rules or (--model) the chat model configured
// for the data directory `data`; prints the report.
int RunIntegrityEval(const std::string& data, const EvalArgs& args, const Output& out);

// Ingests a benchmark file into `space` of the data directory `data`, each
// conversation (LoCoMo sample, LongMemEval question) under its own user. Prints
// {"added","users","skipped"}.
int IngestDataset(const std::string& data, const std::string& space, const std::string& format,
                  const std::string& file, bool skip_bad, const Output& out);

}  // namespace mnemo::cli
