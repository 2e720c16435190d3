// The `mnemo` command line: a thin face over the operations of src/server/ops.h, run in
// process or through a running server (backend.h).
//
// Exit codes (a contract scripts depend on): 0 ok, 1 bad usage or bad input, 2 not
// found, 3 internal error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "mnemo/options.h"
#include "mnemo/query.h"
#include "mnemo/status.h"
#include "util/json_codec.h"

namespace CLI {
class App;
}  // namespace CLI

namespace mnemo::cli {

// Adds to `cmd` one option per search tuning parameter (mnemo/search_params.h: the flag,
// its help and range), each storing into `tuning`, whose values are the defaults shown.
void AddSearchParamFlags(CLI::App* cmd, SearchRequest* tuning);

enum ExitCode { kExitOk = 0, kExitBadInput = 1, kExitNotFound = 2, kExitInternal = 3 };

int ExitCodeFor(const Status& s);

// Prints results and errors in the chosen mode.
class Output {
 public:
  explicit Output(bool json) : json_(json) {}
  bool json() const { return json_; }
  // Prints `j` (JSON mode) or `human` (text mode) to stdout.
  void Emit(const util::Json& j, const std::string& human) const;
  // Reports an error on stderr (and as {"error":{...}} on stdout in JSON mode); returns
  // the exit code for it.
  int Fail(const Status& s) const;

 private:
  bool json_;
};

// Engine options for the data directory `data`: DIR/config.json, the MNEMO_* environment
// variables and the global `--set KEY=VALUE` flags (src/config/config.h). config_cmd.cc.
// One-shot commands run pipeline jobs explicitly (or leave them queued), so the options
// have background_jobs off; the long-running `serve` and `mcp` turn it on.
void SetConfigOverrides(std::vector<std::string> overrides);
Result<Options> EngineOptions(const std::string& data);

// The sample conversation of `mnemo demo`, as JSONL messages.
const std::string& DemoConversation();

}  // namespace mnemo::cli
