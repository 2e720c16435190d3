// `mnemo config show` and `mnemo jobs list|retry|stats|run` (config_cmd.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli.h"

namespace mnemo::cli {

struct ConfigCommands {
  CLI::App* show = nullptr;
};
ConfigCommands RegisterConfig(CLI::App* app);
int RunConfigShow(const std::string& data, const Output& out);

struct JobsArgs {
  std::string space;
  std::string state;  // list: pending, done or dead ("" = all)
  int limit = 50;
  std::string id;  // retry: a job id, or "all"
};
struct JobsCommands {
  CLI::App* list = nullptr;
  CLI::App* retry = nullptr;
  CLI::App* stats = nullptr;
  CLI::App* run = nullptr;
};
JobsCommands RegisterJobs(CLI::App* app, JobsArgs* args);
int RunJobsCommand(const std::string& data, const JobsCommands& cmds, const JobsArgs& args,
                   const Output& out);

}  // namespace mnemo::cli
