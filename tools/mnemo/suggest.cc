#include "suggest.h"

#include <algorithm>
#include <string_view>

namespace mnemo::cli {
namespace {

// Edits (insert, delete, replace, swap two neighbours) from a to b.
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The option of `cmd` (or of a command above it) named `name` ("user" for --user, "h"
// for -h), or null.
const CLI::Option* FindOption(const CLI::App* cmd, const std::string& name, bool is_long) {
  for (; cmd != nullptr; cmd = cmd->get_parent()) {
    for (const CLI::Option* opt : cmd->get_options()) {
      const auto& names = is_long ? opt->get_lnames() : opt->get_snames();
      if (std::find(names.begin(), names.end(), name) != names.end()) return opt;
    }
  }
  return nullptr;
}

std::string Suggestion(const std::string& nearest, const std::string& prefix) {
  return nearest.empty() ? "" : "; did you mean '" + prefix + nearest + "'?";
}

}  // namespace

std::string Nearest(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = std::min<size_t>(3, (word.size() + 1) / 2);
  for (const auto& k : known) {
    const size_t d = Distance(word, k);
    if (d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  return best;
}

std::optional<std::string> UnknownWordMessage(const CLI::App& app, int argc,
                                              const char* const* argv) {
  const CLI::App* cmd = &app;
  std::string path = "mnemo";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") return std::nullopt;  // the rest is positional
    if (word.size() > 1 && word[0] == '-') {
      const bool is_long = word.starts_with("--");
      const size_t eq = word.find('=');
      const std::string name =
          is_long ? word.substr(2, eq == std::string::npos ? eq : eq - 2) : word.substr(1, 1);
      const CLI::Option* opt = FindOption(cmd, name, is_long);
      if (opt == nullptr) {
        if (!is_long) return std::nullopt;  // a negative number, or CLI11 knows better
        std::vector<std::string> known;
        for (const CLI::App* c = cmd; c != nullptr; c = c->get_parent()) {
          for (const CLI::Option* o : c->get_options()) {
            for (const auto& n : o->get_lnames()) known.push_back(n);
          }
        }
        return "unknown option '" + word.substr(0, eq) + "' for '" + path + "'" +
               Suggestion(Nearest(name, known), "--") + " (run '" + path + " --help')";
      }
      // Skip the option's values: one, or (for a list) every word up to the next option.
      if (eq == std::string::npos && opt->get_items_expected_max() > 0) {  // not a flag
        const bool list = opt->get_items_expected_max() > 1 && opt->get_allow_extra_args();
        do {
          ++i;
        } while (list && i + 1 < argc && argv[i + 1][0] != '-');
      }
      continue;
    }
    // Every subcommand (the filterless overload lists only those parsed).
    const std::vector<CLI::App*> subs =
        const_cast<CLI::App*>(cmd)->get_subcommands([](CLI::App*) { return true; });
    auto sub = std::find_if(subs.begin(), subs.end(),
                            [&](const CLI::App* s) { return s->check_name(word); });
    if (sub != subs.end()) {
      cmd = *sub;
      path += " " + word;
      continue;
    }
    if (!subs.empty() && cmd->get_require_subcommand_min() > 0) {
      std::vector<std::string> names;
      for (const CLI::App* s : subs) names.push_back(s->get_name());
      return "unknown command '" + word + "'" + (path == "mnemo" ? "" : " for '" + path + "'") +
             Suggestion(Nearest(word, names), "") + " (run '" + path + " --help')";
    }
    // A positional argument of `cmd` (a query word, an id, a file).
  }
  return std::nullopt;
}

}  // namespace mnemo::cli
