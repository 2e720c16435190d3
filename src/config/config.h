// The effective configuration of a data directory: model providers, the pipeline, the
// lifecycle and storage (SQLite page I/O).
//
// Sources, later ones win (docs/pipeline.md, "Configuration"):
//   1. built-in defaults;
//   2. DIR/config.json (optional; "spaces" holds per-space pipeline overrides);
//   3. environment variables MNEMO_EMBEDDING_*, MNEMO_CHAT_*, MNEMO_PIPELINE_*,
//      MNEMO_STORAGE_*;
//   4. command-line `--set KEY=VALUE` (dotted keys, e.g. chat.model=llama3.1).
// Secrets never live in the file: a provider names the environment variable that holds
// its API key (api_key_env), read when the engine opens.
//
// Thread safety: plain functions over values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mnemo/options.h"
#include "util/json_codec.h"

namespace mnemo::config {

using Environment = std::map<std::string, std::string>;
Environment ProcessEnvironment();  // the MNEMO_* variables and the named key variables

// The merged configuration as JSON (every key present, defaults included). Errors name
// the source and key: "DIR/config.json: pipeline.window_turns must be an integer >= 1".
Result<util::Json> Load(const std::string& data_dir, const std::vector<std::string>& overrides,
                        const Environment& env);

// Builds the engine's options from a merged configuration: the embedder, the chat model
// (their API keys read from `env`) and the pipeline options.
Result<Options> ToOptions(const util::Json& config, const Environment& env);

// The configuration for display: API keys are shown as "set" / "not set", never in clear.
util::Json Masked(const util::Json& config, const Environment& env);

}  // namespace mnemo::config
