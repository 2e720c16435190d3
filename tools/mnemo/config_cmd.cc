#include "config_cmd.h"

#include <iomanip>
#include <sstream>

#include "config/config.h"
#include "mnemo/engine.h"

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

int RunJobsCommand(const std::string& data, const JobsCommands& cmds, const JobsArgs& args,
                   const Output& out) {
  auto options = EngineOptions(data);
  if (!options.ok()) return out.Fail(options.status());
  auto engine = Engine::Open(data, *options);
  if (!engine.ok()) return out.Fail(engine.status());
  Engine& e = **engine;
  if (cmds.list->parsed()) {
    std::optional<JobState> state;
    if (!args.state.empty()) {
      auto s = ParseJobState(args.state);
      if (!s.ok()) return out.Fail(s.status());
      state = *s;
    }
    auto jobs = e.ListJobs(args.space, state, args.limit);
    if (!jobs.ok()) return out.Fail(jobs.status());
    util::Json arr = util::Json::array();
    std::string human;
    for (const auto& j : *jobs) {
      arr.push_back(util::JobToJson(j));
      // A reembed job covers an id range; the others list their memories.
      const std::string covers =
          j.kind == JobKind::kReembed && j.memories.size() == 2
              ? "ids " + std::to_string(j.memories[0]) + ".." + std::to_string(j.memories[1])
              : std::to_string(j.memories.size()) +
                    (j.kind == JobKind::kExtract ? " episodes" : " memories");
      const std::string done = j.kind == JobKind::kExtract ? "\tderived " : "\tvectors ";
      human += std::to_string(j.id) + "\t" + std::string(JobKindName(j.kind)) + "\t" +
               std::string(JobStateName(j.state)) + "\t" + covers + "\tattempts " +
               std::to_string(j.attempts) + done + std::to_string(j.derived) +
               (j.last_error.empty() ? "" : "\t" + j.last_error) + "\n";
    }
    if (!human.empty()) human.pop_back();
    out.Emit({{"jobs", arr}}, human.empty() ? "(no jobs)" : human);
    return kExitOk;
  }
  if (cmds.retry->parsed()) {
    int64_t id = 0;
    if (args.id != "all") {
      char* end = nullptr;
      id = std::strtoll(args.id.c_str(), &end, 10);
      if (args.id.empty() || *end != '\0' || id <= 0) {
        return out.Fail(
            Status::InvalidArgument("invalid job id \"" + args.id + "\"; give a number or 'all'"));
      }
    }
    auto n = e.RetryJobs(args.space, id);
    if (!n.ok()) return out.Fail(n.status());
    out.Emit({{"retried", *n}}, "moved " + std::to_string(*n) + " dead job(s) back to pending");
    return kExitOk;
  }
  if (cmds.run->parsed()) {
    if (Status s = e.RunJobs(args.space); !s.ok()) return out.Fail(s);
  }
  auto s = e.GetJobStats(args.space);
  if (!s.ok()) return out.Fail(s.status());
  std::string human =
      "jobs: " + std::to_string(s->pending) + " pending, " + std::to_string(s->done) + " done, " +
      std::to_string(s->dead) + " dead\n" + "extractor: " + s->extractor + "\n" +
      "turns processed: " + std::to_string(s->turns) +
      ", memories derived: " + std::to_string(s->derived) + "\n" +
      "embed jobs pending: " + std::to_string(s->embed_pending) +
      ", vectors written by jobs: " + std::to_string(s->embedded) + "\n" +
      "chat calls: " + std::to_string(s->calls) + " (" + Ratio(s->calls, s->turns) +
      " per turn), prompt tokens: " + std::to_string(s->prompt_tokens) + " (" +
      Ratio(s->prompt_tokens, s->turns) +
      " per turn), completion tokens: " + std::to_string(s->completion_tokens) + "\n" +
      "tokens today: " + std::to_string(s->tokens_today) + " of " +
      (s->daily_token_budget ? std::to_string(s->daily_token_budget) : std::string("unlimited"));
  out.Emit(util::JobStatsToJson(*s), human);
  return kExitOk;
}

}  // namespace mnemo::cli
