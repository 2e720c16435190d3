#include "config_cmd.h"

#include <iomanip>
#include <sstream>

#include "backend.h"
#include "config/config.h"
#include "mnemo/engine.h"
#include "progress.h"

namespace mnemo::cli {
namespace {

std::vector<std::string>& Overrides() {
  static std::vector<std::string> overrides;
  return overrides;
}

std::string Ratio(int64_t a, int64_t b) {
  if (b == 0) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << static_cast<double>(a) / static_cast<double>(b);
  return os.str();
}

}  // namespace

void SetConfigOverrides(std::vector<std::string> overrides) { Overrides() = std::move(overrides); }

Result<Options> EngineOptions(const std::string& data) {
  const auto env = config::ProcessEnvironment();
  MNEMO_ASSIGN_OR_RETURN(auto cfg, config::Load(data, Overrides(), env));
  MNEMO_ASSIGN_OR_RETURN(Options o, config::ToOptions(cfg, env));
  o.background_jobs = false;
  return o;
}

ConfigCommands RegisterConfig(CLI::App* app) {
  auto* config = app->add_subcommand("config", "show the effective configuration");
  config->require_subcommand(1);
  ConfigCommands c;
  c.show = config->add_subcommand(
      "show", "print the configuration in effect (config.json, MNEMO_* variables, --set)");
  return c;
}

int RunConfigShow(const std::string& data, const Output& out) {
  const auto env = config::ProcessEnvironment();
  auto cfg = config::Load(data, Overrides(), env);
  if (!cfg.ok()) return out.Fail(cfg.status());
  // Building the options checks the providers' settings too.
  if (auto o = config::ToOptions(*cfg, env); !o.ok()) return out.Fail(o.status());
  const util::Json shown = config::Masked(*cfg, env);
  out.Emit(shown, shown.dump(2));
  return kExitOk;
}

JobsCommands RegisterJobs(CLI::App* app, JobsArgs* args) {
  auto* jobs = app->add_subcommand("jobs", "the background pipeline's jobs");
  jobs->require_subcommand(1);
  JobsCommands c;
  c.list = jobs->add_subcommand("list", "list jobs, newest first");
  c.list->add_option("--state", args->state, "pending, done or dead");
  c.list->add_option("--limit", args->limit, "at most this many (default 50)");
  c.retry = jobs->add_subcommand("retry", "move dead jobs back to pending");
  c.retry->add_option("ID", args->id, "a job id, or 'all'")->required();
  c.stats = jobs->add_subcommand("stats", "job counts, chat calls and tokens per turn, budget");
  c.run = jobs->add_subcommand("run", "run the ready jobs now and wait for them");
  for (auto* cmd : {c.list, c.retry, c.stats, c.run}) {
    cmd->add_option("--space", args->space, "space")->required();
  }
  return c;
}

namespace {

// A job of the api (util::JobToJson), as one line for people.
std::string JobLine(const util::Json& j) {
  const std::string kind = j.value("kind", "");
  const util::Json& memories = j["memories"];
  // A reembed job covers an id range; the others list their memories.
  const std::string covers =
      kind == JobKindName(JobKind::kReembed) && memories.size() == 2
          ? "ids " + memories[0].dump() + ".." + memories[1].dump()
          : std::to_string(memories.size()) +
                (kind == JobKindName(JobKind::kExtract) ? " episodes" : " memories");
  const std::string done = kind == JobKindName(JobKind::kExtract) ? "\tderived " : "\tvectors ";
  const std::string error = j.value("last_error", "");
  return j["id"].dump() + "\t" + kind + "\t" + j.value("state", "") + "\t" + covers +
         "\tattempts " + j["attempts"].dump() + done + j["derived"].dump() +
         (error.empty() ? "" : "\t" + error);
}

// Job statistics of the api (util::JobStatsToJson), for people.
std::string StatsText(const util::Json& s) {
  auto n = [&](const char* key) { return std::to_string(s.value(key, int64_t{0})); };
  const int64_t turns = s.value("turns", int64_t{0});
  const int64_t budget = s.value("daily_token_budget", int64_t{0});
  return "jobs: " + n("pending") + " pending, " + n("done") + " done, " + n("dead") +
         " dead\nextractor: " + s.value("extractor", "") + "\nturns processed: " + n("turns") +
         ", memories derived: " + n("derived") + "\nembed jobs pending: " + n("embed_pending") +
         ", vectors written by jobs: " + n("embedded") + "\nchat calls: " + n("chat_calls") + " (" +
         Ratio(s.value("chat_calls", int64_t{0}), turns) +
         " per turn), prompt tokens: " + n("prompt_tokens") + " (" +
         Ratio(s.value("prompt_tokens", int64_t{0}), turns) +
         " per turn), completion tokens: " + n("completion_tokens") +
         "\ntokens today: " + n("tokens_today") + " of " +
         (budget ? std::to_string(budget) : "unlimited");
}

}  // namespace

int RunJobsCommand(const std::string& data, const JobsCommands& cmds, const JobsArgs& args,
                   const Output& out) {
  util::Json request = {{"space", args.space}};
  std::string op = "job_stats";
  if (cmds.list->parsed()) {
    op = "list_jobs";
    if (!args.state.empty()) request["state"] = args.state;
    request["limit"] = args.limit;
  } else if (cmds.retry->parsed()) {
    op = "retry_jobs";
    if (args.id == "all") {
      request["all"] = true;
    } else {
      char* end = nullptr;
      const int64_t id = std::strtoll(args.id.c_str(), &end, 10);
      if (args.id.empty() || *end != '\0' || id <= 0) {
        return out.Fail(
            Status::InvalidArgument("invalid job id \"" + args.id + "\"; give a number or 'all'"));
      }
      request["id"] = id;
    }
  }
  auto b = Backend::Open(data);
  if (!b.ok()) return out.Fail(b.status());
  if (cmds.run->parsed()) {  // the pipeline's jobs run in the process that holds the space
    Engine* e = (*b)->engine();
    if (e == nullptr) {
      return out.Fail(Status::FailedPrecondition(
          "the running server runs the jobs itself; 'jobs run' needs the data directory to "
          "itself: stop the server first"));
    }
    ProgressLine progress("running jobs", "jobs");
    if (Status s = e->RunJobs(args.space, /*summaries_now=*/true, progress.Callback()); !s.ok())
      return out.Fail(s);
    progress.Done();
  }
  auto r = (*b)->Call(op, request);
  if (!r.ok()) return out.Fail(ForCli(r.status()));
  if (op == "list_jobs") {
    std::string human;
    for (const auto& j : (*r)["jobs"]) human += JobLine(j) + "\n";
    if (!human.empty()) human.pop_back();
    out.Emit(*r, human.empty() ? "(no jobs)" : human);
  } else if (op == "retry_jobs") {
    out.Emit(*r, "moved " + (*r)["retried"].dump() + " dead job(s) back to pending");
  } else {
    out.Emit(*r, StatsText(*r));
  }
  return kExitOk;
}

}  // namespace mnemo::cli
