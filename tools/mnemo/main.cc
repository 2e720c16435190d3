// mnemo — the command line. Parses arguments, calls the engine, prints the result.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "backend.h"
#include "cli.h"
#include "cli_docs.h"
#include "config_cmd.h"
#include "context_cmd.h"
#include "eval_cmd.h"
#include "mnemo/engine.h"
#include "mnemo/search_params.h"
#include "mnemo/version.h"
#include "progress.h"
#include "server_cmd.h"
#include "suggest.h"
#include "util/json_codec.h"

namespace mnemo::cli {
namespace {

using util::Json;

struct FilterArgs {
  std::string user, agent, session, since, until, as_of, valid_at, filters, quarantined;
  std::vector<std::string> kinds, tags, meta_eq, labels, exclude_labels;
  bool all_users = false;
  bool include_retired = false;
  bool include_archived = false;

  void Register(CLI::App* cmd, bool with_all_users) {
    cmd->add_option("--user", user, "only this user's memories");
    if (with_all_users) cmd->add_flag("--all-users", all_users, "search every user of the space");
    cmd->add_option("--agent", agent, "only this agent's memories");
    cmd->add_option("--session", session, "only this session");
    cmd->add_option("--kind", kinds,
                    "only these kinds (repeatable): episode, fact, preference, procedure, summary")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--since", since, "event time at or after (ISO 8601)");
    cmd->add_option("--until", until, "event time before (ISO 8601)");
    cmd->add_option("--tag", tags, "must carry this tag (repeatable)")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--meta-eq", meta_eq,
                    "metadata KEY=VALUE must match (VALUE is JSON, or a string)")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--filters", filters,
                    "a filter expression (JSON; docs/api.md, \"Filter expressions\"), e.g. "
                    "'{\"metadata.amount\": {\"gt\": 50}}'");
    cmd->add_flag("--include-retired,--include-history", include_retired,
                  "include removed, superseded and expired memories");
    cmd->add_flag("--include-archived", include_archived,
                  "include memories the tiers' capacity limits moved to the archive");
    cmd->add_option("--label", labels,
                    "only memories with any of these sensitivity labels (repeatable): health, "
                    "sexuality, religion, politics, ethnicity, finance, location, identity, "
                    "credentials")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--exclude-label", exclude_labels,
                    "leave out memories with this sensitivity label (repeatable)")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--quarantined", quarantined,
                    "quarantined memories (text from a tool or the web that reads as "
                    "instructions to the agent): exclude (default), include, or only");
    cmd->add_option("--as-of", as_of,
                    "as mnemo knew it at this time (ISO 8601): the memories it held then, "
                    "in their version of then");
    cmd->add_option("--valid-at", valid_at,
                    "what was true at this time (ISO 8601), superseded facts included");
  }

  // The filter as the list and search operations' arguments (server/ops.h), which
  // check every value.
  Status AddTo(Json* args) const {
    Json& j = *args;
    for (auto [value, name] :
         {std::pair{&user, "user"}, std::pair{&agent, "agent"}, std::pair{&session, "session"},
          std::pair{&since, "since"}, std::pair{&until, "until"}, std::pair{&as_of, "as_of"},
          std::pair{&valid_at, "valid_at"}, std::pair{&quarantined, "quarantined"}}) {
      if (!value->empty()) j[name] = *value;
    }
    if (all_users) j["all_users"] = true;
    if (!kinds.empty()) j["kinds"] = kinds;
    if (!tags.empty()) j["tags"] = tags;
    if (!labels.empty()) j["labels"] = labels;
    if (!exclude_labels.empty()) j["exclude_labels"] = exclude_labels;
    for (const auto& kv : meta_eq) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Status::InvalidArgument("--meta-eq takes KEY=VALUE, got \"" + kv + "\"");
      }
      const std::string value = kv.substr(eq + 1);
      auto parsed = util::ParseJson(value);
      j["meta"][kv.substr(0, eq)] = parsed.ok() ? *parsed : Json(value);
    }
    if (!filters.empty()) {
      auto parsed = util::ParseJson(filters);
      if (!parsed.ok()) {
        return Status::InvalidArgument("\"filters\": " + parsed.status().message())
            .WithField("filters");
      }
      j["filters"] = std::move(parsed).value();
    }
    if (include_retired) j["include_retired"] = true;
    if (include_archived) j["include_archived"] = true;
    return Status::Ok();
  }
};

std::string DefaultDataDir() {
  if (const char* env = std::getenv("MNEMO_DATA"); env && *env) return env;
  return "mnemo-data";
}

// "2024-05-08 13:56" of an ISO 8601 time of the api ("----------" for none).
std::string ShortTime(const Json& iso) {
  if (!iso.is_string() || iso.get_ref<const std::string&>().size() < 16) return "----------";
  const std::string& s = iso.get_ref<const std::string&>();
  return s.substr(0, 10) + " " + s.substr(11, 5);
}

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A memory of the api (util::MemoryToJson), for people.
std::string HumanMemory(const Json& m) {
  std::ostringstream os;
  os << "id " << m.value("id", int64_t{0}) << " v" << m.value("version", int64_t{0}) << " "
     << Str(m, "kind") << " (" << Str(m, "state") << ")\n"
     << "  user " << Str(m, "user");
  if (!Str(m, "session").empty()) os << "  session " << Str(m, "session");
  const std::string who = Str(m, "speaker").empty() ? Str(m, "role") : Str(m, "speaker");
  if (!who.empty()) os << "  " << who;
  os << "  time " << ShortTime(m.value("time", Json()));
  if (!Str(m, "origin").empty() && Str(m, "origin") != "user") {
    os << "  origin " << Str(m, "origin") << " (trust " << Str(m, "trust") << ")";
  }
  if (m.value("quarantined", false)) os << "\n  QUARANTINED: " << Str(m, "quarantine_reason");
  if (const auto labels = m.value("labels", Json::array()); !labels.empty()) {
    os << "\n  labels:";
    for (const auto& l : labels) os << " " << l.get<std::string>();
  }
  os << "\n  " << Str(m, "text");
  return os.str();
}

// A search hit of the api (util::SearchHitToJson), for people.
std::string HumanHit(size_t rank, const Json& h) {
  std::ostringstream os;
  os << rank << ". [" << ShortTime(h.value("time", Json())) << "] ";
  const std::string who = Str(h, "speaker").empty() ? Str(h, "role") : Str(h, "speaker");
  if (!who.empty()) os << who << ": ";
  os << Str(h, "text") << "  (score " << h.value("score", 0.0) << ", id "
     << h.value("id", int64_t{0}) << (h.value("quarantined", false) ? ", QUARANTINED" : "") << ")";
  for (const auto& e : h.value("explain", Json::array())) {
    os << "\n     " << Str(e, "signal") << ": rank " << e.value("rank", 0) << ", raw "
       << e.value("raw", 0.0) << ", +" << e.value("contribution", 0.0);
  }
  return os.str();
}

Result<MemoryId> ParseId(const std::string& text) {
  MemoryId id = 0;
  bool ok = !text.empty() && text.size() <= 18;
  for (char c : text) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) id = id * 10 + (c - '0');
  }
  if (!ok || id <= 0) return Status::InvalidArgument("invalid memory id \"" + text + "\"");
  return id;
}

// Reads a whole file, or standard input for "-".
Result<std::string> ReadInput(const std::string& path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  ss << in.rdbuf();
  return ss.str();
}

// Splits JSONL, skipping blank lines; each entry is (line number, text).
std::vector<std::pair<size_t, std::string>> JsonLines(const std::string& data) {
  std::vector<std::pair<size_t, std::string>> out;
  std::istringstream in(data);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    out.emplace_back(n, std::move(line));
  }
  return out;
}

// The ingest operation's errors about messages[i] become errors about the line it came
// from.
Status ItemToLine(const Status& s, const std::vector<size_t>& lines) {
  constexpr std::string_view kPrefix = "messages[";
  const std::string& f = s.field();
  if (!f.starts_with(kPrefix)) return s;
  const size_t i = std::strtoul(f.c_str() + kPrefix.size(), nullptr, 10);
  const std::string item = std::string(kPrefix) + std::to_string(i) + "]";
  std::string msg = s.message();
  if (i >= lines.size()) return s;
  const std::string line = "line " + std::to_string(lines[i]);
  if (msg.starts_with(item)) {
    msg.replace(0, item.size(), line);
  } else {
    msg = line + ": " + msg;
  }
  return Status(s.code(), msg).WithField(f);
}

struct Args {
  std::string space, user, agent, session, kind = "episode", role, speaker, time, meta, text;
  std::string id, file, cursor, batch, reason, fusion = "rrf", format, now, ttl, expires, origin;
  std::vector<std::string> tags, labels;
  std::vector<std::string> query_words;
  double importance = 0.5;
  // Search tuning (mnemo/search_params.h): the engine's defaults.
  SearchRequest tuning;
  int k = 10, limit = 100;
  bool purge = false, explain = false, desc = false, skip_bad = false, provenance = false;
  bool expand_links = false, reveal = false, quarantine = false, release = false;
  bool text_given = false;  // update: TEXT was given (an empty one is an error to report)
  FilterArgs filter;
};

class Runner {
 public:
  Runner(std::string data, Output out) : data_(std::move(data)), out_(out) {}

  int Init() {
    auto o = EngineOptions(data_);
    if (!o.ok()) return out_.Fail(o.status());
    o->create_if_missing = true;
    auto engine = Engine::Open(data_, *o);
    if (!engine.ok()) return out_.Fail(engine.status());
    out_.Emit({{"data", data_}, {"initialized", true}}, "mnemo data directory ready at " + data_);
    return kExitOk;
  }

  int SpaceCreate(const std::string& name) {
    return Op("create_space", {{"name", name}}, [&](Backend&, const Json&) {
      out_.Emit({{"space", name}, {"created", true}}, "created space '" + name + "'");
    });
  }

  int SpaceList() {
    return Op("list_spaces", Json::object(), [&](Backend&, const Json& r) {
      std::string human;
      for (const auto& s : r["spaces"]) {
        human +=
            Str(s, "name") + "\t" + std::to_string(s.value("memories", int64_t{0})) + " memories\n";
      }
      if (!human.empty()) human.pop_back();
      out_.Emit(r, human.empty() ? "(no spaces)" : human);
    });
  }

  int SpaceDrop(const std::string& name) {
    return Op("drop_space", {{"space", name}}, [&](Backend&, const Json&) {
      out_.Emit({{"space", name}, {"dropped", true}}, "dropped space '" + name + "'");
    });
  }

  int Add(const Args& a) {
    Json args = {{"space", a.space},
                 {"text", a.text},
                 {"user", a.user},
                 {"kind", a.kind},
                 {"importance", a.importance}};
    for (auto [value, name] :
         {std::pair{&a.agent, "agent"}, std::pair{&a.session, "session"},
          std::pair{&a.role, "role"}, std::pair{&a.speaker, "speaker"}, std::pair{&a.time, "time"},
          std::pair{&a.ttl, "ttl"}, std::pair{&a.expires, "expires_at"},
          std::pair{&a.origin, "origin"}}) {
      if (!value->empty()) args[name] = *value;
    }
    if (!a.tags.empty()) args["tags"] = a.tags;
    if (!a.labels.empty()) args["labels"] = a.labels;
    if (!a.meta.empty()) {
      auto meta = util::ParseJson(a.meta);
      if (!meta.ok()) {
        return out_.Fail(Status::InvalidArgument("--meta: metadata must be a JSON object: " +
                                                 meta.status().message()));
      }
      args["meta"] = std::move(meta).value();
    }
    return Op("add_memory", args, [&](Backend& b, const Json& m) {
      b.DeriveNow(a.space);
      const bool quarantined = m.value("quarantined", false);
      Json out = {{"id", m["id"]}};
      if (quarantined) out["quarantine_reason"] = m["quarantine_reason"];
      out_.Emit(out, "added memory " + m["id"].dump() +
                         (quarantined ? " (quarantined: " + Str(m, "quarantine_reason") +
                                            "; list it with --quarantined only)"
                                      : ""));
    });
  }

  int Ingest(const Args& a) {
    if (!a.format.empty()) {
      // A benchmark file names its own users: one per conversation.
      if (!a.user.empty()) {
        return out_.Fail(Status::InvalidArgument(
            "--user cannot be combined with --format: the dataset names a user per conversation"));
      }
      return IngestDataset(data_, a.space, a.format, a.file, a.skip_bad, out_);
    }
    if (a.user.empty()) {
      return out_.Fail(Status::InvalidArgument(
          "ingest needs --user U (or --format locomo|longmemeval for a benchmark file)"));
    }
    if (a.skip_bad) return out_.Fail(Status::InvalidArgument("--skip-bad needs --format"));
    auto data = ReadInput(a.file);
    if (!data.ok()) return out_.Fail(data.status());
    Json messages = Json::array();
    std::vector<size_t> lines;
    for (auto& [n, line] : JsonLines(*data)) {
      auto j = util::ParseJson(line);
      if (!j.ok()) return out_.Fail(j.status().WithContext("line " + std::to_string(n)));
      messages.push_back(std::move(j).value());
      lines.push_back(n);
    }
    if (messages.empty()) return out_.Fail(Status::InvalidArgument("no messages in " + a.file));
    const auto count = static_cast<int64_t>(messages.size());
    const Json args = {{"space", a.space}, {"user", a.user}, {"messages", std::move(messages)}};
    auto b = Backend::Open(data_);
    if (!b.ok()) return out_.Fail(b.status());
    ProgressLine storing("storing", "messages");  // one transaction: all or nothing
    storing.Update(0, count);
    auto r = (*b)->Call("ingest", args);
    if (!r.ok()) {
      storing.Abandon();
      return out_.Fail(ForCli(ItemToLine(r.status(), lines)));
    }
    storing.Update(count, count);
    storing.Done();
    (*b)->DeriveNow(a.space);
    const size_t added = (*r)["ids"].size();
    out_.Emit({{"added", added}}, "added " + std::to_string(added) + " memories");
    return kExitOk;
  }

  int Get(const Args& a) {
    if (a.provenance) return Provenance(a);
    Json args = Json::object();
    if (a.reveal) args["reveal"] = true;
    return WithId(a, "get_memory", args,
                  [&](Backend&, const Json& m) { out_.Emit(m, HumanMemory(m)); });
  }

  int Provenance(const Args& a) {
    return WithId(a, "memory_provenance", {}, [&](Backend&, const Json& r) {
      std::string human;
      for (const auto& step : r["provenance"]) {
        const int depth = step["depth"].get<int>();
        std::string indent(static_cast<size_t>(depth) * 2, ' ');
        std::string block = HumanMemory(step);
        for (size_t pos = 0; (pos = block.find('\n', pos)) != std::string::npos; pos += 1)
          block.insert(pos + 1, indent);
        human += indent + (depth ? "<- " : "") + block + "\n";
      }
      if (!human.empty()) human.pop_back();
      out_.Emit(r, human);
    });
  }

  int History(const Args& a) {
    return WithId(a, "memory_history", {}, [&](Backend&, const Json& r) {
      std::string human;
      for (const auto& h : r["history"]) {
        human += "v" + std::to_string(h.value("version", int64_t{0})) + " " + Str(h, "op") +
                 " at " + Str(h, "time") + " by " + Str(h, "actor") +
                 (Str(h, "reason").empty() ? "" : " (" + Str(h, "reason") + ")") + "\n";
      }
      if (!human.empty()) human.pop_back();
      out_.Emit({{"id", std::stoll(a.id)}, {"history", r["history"]}}, human);
    });
  }

  int Update(const Args& a) {
    Json args = Json::object();
    if (a.text_given) args["text"] = a.text;
    if (a.quarantine && a.release) {
      return out_.Fail(Status::InvalidArgument("give --quarantine or --release, not both"));
    }
    if (a.quarantine || a.release) args["quarantined"] = a.quarantine;
    if (args.empty()) {
      return out_.Fail(
          Status::InvalidArgument("update needs a new TEXT, --quarantine or --release"));
    }
    if (!a.reason.empty()) args["reason"] = a.reason;
    return WithId(a, "update_memory", args, [&](Backend&, const Json& m) {
      std::string human = "updated memory " + a.id + " to version " + m["version"].dump();
      if (m.value("quarantined", false))
        human += " (quarantined: " + Str(m, "quarantine_reason") + ")";
      out_.Emit(m, human);
    });
  }

  int Delete(const Args& a) {
    Json args = {{"purge", a.purge}};
    if (!a.reason.empty()) args["reason"] = a.reason;
    return WithId(a, "delete_memory", args, [&](Backend&, const Json& r) {
      std::string human = (a.purge ? "purged memory " : "removed memory ") + a.id;
      if (a.purge && r["erased"].size() > 1) {
        human += " and " + std::to_string(r["erased"].size() - 1) +
                 " memories derived from it: " + util::DumpJson(r["erased"]);
      }
      out_.Emit(r, human);
    });
  }

  int List(const Args& a) {
    Json args = {{"space", a.space}, {"limit", a.limit}, {"descending", a.desc}};
    if (!a.cursor.empty()) args["cursor"] = a.cursor;
    if (Status s = a.filter.AddTo(&args); !s.ok()) return out_.Fail(s);
    return Op("list_memories", args, [&](Backend&, const Json& page) {
      std::string human;
      for (const auto& m : page["memories"]) {
        const std::string text = Str(m, "text");
        human += m["id"].dump() + "  " + ShortTime(m.value("time", Json())) + "  " +
                 Str(m, "kind") + "  " + Str(m, "user") + "  " +
                 (text.size() > 80 ? text.substr(0, 77) + "..." : text) + "\n";
      }
      const std::string cursor = Str(page, "next_cursor");
      if (!cursor.empty()) human += "next page: --cursor " + cursor + "\n";
      if (!human.empty()) human.pop_back();
      out_.Emit({{"memories", page["memories"]},
                 {"next_cursor", cursor.empty() ? Json(nullptr) : Json(cursor)}},
                human.empty() ? "(no memories)" : human);
    });
  }

  int Users(const Args& a) {
    Json args = {{"space", a.space}, {"limit", a.limit}};
    if (!a.cursor.empty()) args["cursor"] = a.cursor;
    return Op("list_users", args, [&](Backend&, const Json& page) {
      std::string human;
      for (const auto& u : page["users"]) {
        human += Str(u, "user") + "  " + u["memories"].dump() + " memories  " +
                 ShortTime(u["first_time"]) + " .. " + ShortTime(u["last_time"]) + "\n";
      }
      const std::string cursor = Str(page, "next_cursor");
      if (!cursor.empty()) human += "next page: --cursor " + cursor + "\n";
      if (!human.empty()) human.pop_back();
      out_.Emit({{"users", page["users"]},
                 {"next_cursor", cursor.empty() ? Json(nullptr) : Json(cursor)}},
                human.empty() ? "(no users)" : human);
    });
  }

  int Search(const Args& a) {
    if (!a.batch.empty()) return SearchBatch(a);
    std::string query;
    for (const auto& w : a.query_words) query += (query.empty() ? "" : " ") + w;
    Json args = {{"space", a.space},
                 {"query", query},
                 {"k", a.k},
                 {"explain", a.explain},
                 {"expand_links", a.expand_links},
                 {"fusion", a.fusion}};
    for (const SearchParam& p : SearchParams()) {  // mnemo/search_params.h
      if (p.number != nullptr) {
        args[std::string(p.name)] = a.tuning.*p.number;
      } else {
        args[std::string(p.name)] = a.tuning.*p.integer;
      }
    }
    if (!a.now.empty()) args["now"] = a.now;
    if (Status s = a.filter.AddTo(&args); !s.ok()) return out_.Fail(s);
    auto b = Backend::Open(data_);
    if (!b.ok()) return out_.Fail(b.status());
    auto r = (*b)->Call("search", args);
    if (!r.ok()) {
      Status s = ForCli(r.status());
      // The scope rule names "user"; on the command line there is another way out.
      if (s.field() == "user" && !a.filter.all_users && a.filter.user.empty()) {
        s = Status(s.code(), s.message() + " (--user U or --all-users)").WithField("user");
      }
      return out_.Fail(s);
    }
    std::string human;
    size_t rank = 0;
    for (const auto& h : (*r)["results"]) human += HumanHit(++rank, h) + "\n";
    if (!human.empty()) human.pop_back();
    out_.Emit(*r, human.empty() ? "(no results)" : human);
    return kExitOk;
  }

  // `mnemo export` (the space) and `mnemo user export` (a.user's memories only).
  int Export(const Args& a) {
    auto b = Backend::Open(data_);
    if (!b.ok()) return out_.Fail(b.status());
    // In process the engine streams the space; through a server it comes as one answer.
    auto write = [&](std::ostream& os) -> Status {
      if (Engine* e = (*b)->engine()) {
        return a.user.empty() ? e->Export(a.space, os) : e->ExportUser(a.space, a.user, os);
      }
      Json args = {{"space", a.space}};
      if (!a.user.empty()) args["user"] = a.user;
      auto r = (*b)->Call("export", args);
      if (!r.ok()) return ForCli(r.status());
      os << r->get_ref<const std::string&>();
      return Status::Ok();
    };
    if (a.file.empty() || a.file == "-") {
      Status s = write(std::cout);
      if (s.ok() && !std::cout.flush()) s = Status::IOError("writing standard output failed");
      return s.ok() ? int(kExitOk) : out_.Fail(s);
    }
    const std::string tmp = a.file + ".partial";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return out_.Fail(Status::IOError("cannot write " + tmp));
    Status s = write(out);
    out.close();
    if (s.ok() && !out) s = Status::IOError("writing " + tmp + " failed");
    if (s.ok() && std::rename(tmp.c_str(), a.file.c_str()) != 0) {
      s = Status::IOError("cannot rename " + tmp + " to " + a.file);
    }
    if (!s.ok()) {
      std::remove(tmp.c_str());
      return out_.Fail(s);
    }
    if (a.user.empty()) {
      out_.Emit({{"space", a.space}, {"file", a.file}},
                "exported space '" + a.space + "' to " + a.file);
    } else {
      out_.Emit({{"space", a.space}, {"user", a.user}, {"file", a.file}},
                "exported user '" + a.user + "' of space '" + a.space + "' to " + a.file);
    }
    return kExitOk;
  }

  int EraseUser(const Args& a) {
    Json args = {{"space", a.space}, {"user", a.user}};
    if (!a.reason.empty()) args["reason"] = a.reason;
    return Op("erase_user", args, [&](Backend&, const Json& r) {
      out_.Emit(r, "erased user '" + a.user + "' from space '" + a.space + "': " +
                       r["memories"].dump() + " memories and " + r["jobs"].dump() + " jobs");
    });
  }

  int Import(const Args& a) {
    auto text = ReadInput(a.file);  // "-": stdin
    if (!text.ok()) return out_.Fail(text.status());
    const auto lines = static_cast<int64_t>(std::count(text->begin(), text->end(), '\n'));
    const Json args = {{"space", a.space}, {"export", std::move(text).value()}};
    auto b = Backend::Open(data_);
    if (!b.ok()) return out_.Fail(b.status());
    ProgressLine importing("importing", "lines");  // one transaction: all or nothing
    importing.Update(0, lines);
    auto r = (*b)->Call("import", args);
    if (!r.ok()) {
      importing.Abandon();
      return out_.Fail(ForCli(r.status()));
    }
    importing.Update(lines, lines);
    importing.Done();
    out_.Emit(*r, "imported " + std::to_string((*r)["memories"].get<int64_t>()) + " memories, " +
                      std::to_string((*r)["history"].get<int64_t>()) + " history entries, " +
                      std::to_string((*r)["links"].get<int64_t>()) + " links");
    return kExitOk;
  }

  // stats and maintain: one line per field.
  int Report(const char* op, const Args& a) {
    return Op(op, {{"space", a.space}}, [&](Backend&, const Json& j) {
      std::string human;
      for (auto it = j.begin(); it != j.end(); ++it) {
        human += it.key() + ": " + (it->is_string() ? it->get<std::string>() : it->dump()) + "\n";
      }
      if (!human.empty()) human.pop_back();
      out_.Emit(j, human);
    });
  }

  int Demo() {
    auto o = EngineOptions(data_);
    if (!o.ok()) return out_.Fail(o.status());
    o->create_if_missing = true;
    auto engine = Engine::Open(data_, *o);
    if (!engine.ok()) return out_.Fail(InUseHint(engine.status()));
    Engine& e = **engine;
    const std::string space = "demo";
    if (auto st = e.DropSpace(space); !st.ok() && st.code() != StatusCode::kNotFound)
      return out_.Fail(st);
    if (auto st = e.CreateSpace(space); !st.ok()) return out_.Fail(st);
    std::vector<Message> messages;
    for (auto& [n, line] : JsonLines(DemoConversation())) {
      messages.push_back(*util::MessageFromJson(*util::ParseJson(line)));
    }
    auto ingested = e.Ingest(space, "maya", messages);
    if (!ingested.ok()) return out_.Fail(ingested.status());
    Json report = {{"space", space}, {"data", data_}, {"ingested", ingested->ids.size()}};
    std::string human = "mnemo demo: ingested " + std::to_string(ingested->ids.size()) +
                        " messages into space 'demo' of " + data_ + "\n";
    Json searches = Json::array();
    for (const char* q :
         {"Where did Maya move?", "peanut allergy", "What is her cat called?", "book the vet"}) {
      SearchRequest req;
      req.query = q;
      req.filter.user_id = "maya";
      req.k = 2;
      auto hits = e.Search(space, req);
      if (!hits.ok()) return out_.Fail(hits.status());
      Json arr = Json::array();
      human += "\nsearch: " + std::string(q) + "\n";
      for (size_t i = 0; i < hits->size(); ++i) {
        arr.push_back(util::SearchHitToJson((*hits)[i]));
        human += "  " + HumanHit(i + 1, arr.back()) + "\n";
      }
      searches.push_back({{"query", q}, {"results", arr}});
    }
    report["searches"] = searches;
    human +=
        "\nTry it yourself: mnemo --data " + data_ + " search --space demo --user maya \"surfing\"";
    out_.Emit(report, human);
    return kExitOk;
  }

 private:
  // Runs operation `op` on the data directory (in process, or in the server that holds
  // it) and lets `print` show its answer.
  template <typename Print>
  int Op(std::string_view op, const Json& args, Print print) {
    auto b = Backend::Open(data_);
    if (!b.ok()) return out_.Fail(b.status());
    auto r = (*b)->Call(op, args);
    if (!r.ok()) return out_.Fail(ForCli(r.status()));
    print(**b, *r);
    return kExitOk;
  }

  // Op on the memory a.id names.
  template <typename Print>
  int WithId(const Args& a, std::string_view op, Json args, Print print) {
    auto id = ParseId(a.id);
    if (!id.ok()) return out_.Fail(id.status());
    args["space"] = a.space;
    args["id"] = *id;
    return Op(op, args, print);
  }

  // "in use by another mnemo process", and this command cannot go through the server.
  Status InUseHint(const Status& s) const {
    if (s.code() != StatusCode::kFailedPrecondition ||
        s.message().find("in use") == std::string::npos) {
      return s;
    }
    return Status(s.code(), s.message() +
                                "; this command needs the data directory to itself: stop the "
                                "server first (the others go through it)");
  }

  // One search per JSONL line (the search operation's fields but "space"), one answer
  // line each: {"results": [...]} or {"error": {...}}.
  int SearchBatch(const Args& a) {
    auto data = ReadInput(a.batch);
    if (!data.ok()) return out_.Fail(data.status());
    auto b = Backend::Open(data_);
    if (!b.ok()) return out_.Fail(b.status());
    int rc = kExitOk;
    for (auto& [n, line] : JsonLines(*data)) {
      auto j = util::ParseJson(line);
      Result<Json> r = Status::InvalidArgument("expected a JSON object for a search");
      if (!j.ok()) {
        r = j.status();
      } else if (j->is_object() && j->contains("space")) {
        r = Status::InvalidArgument("unknown field \"space\": the space is --space")
                .WithField("space");
      } else if (j->is_object()) {
        (*j)["space"] = a.space;
        r = (*b)->Call("search", *j);
      }
      if (!r.ok()) {
        const Status s = r.status().WithContext("line " + std::to_string(n));
        Json err = {{"code", StatusCodeName(s.code())}, {"message", s.message()}};
        if (!s.field().empty()) err["field"] = s.field();
        std::cout << util::DumpJson({{"error", std::move(err)}}) << "\n";
        if (rc == kExitOk) rc = ExitCodeFor(s);
        continue;
      }
      std::cout << util::DumpJson(*r) << "\n";
    }
    return rc;
  }

  std::string data_;
  Output out_;
};

// An option given an empty value (`--time ""`) is an error rather than the option's
// default: a script that meant a value but expanded an empty variable is told so.
void RefuseEmptyValues(CLI::App* app) {
  const CLI::Validator non_empty(
      [](std::string& value) {
        return value.empty() ? std::string("must not be empty (leave the option out instead)")
                             : std::string();
      },
      "", "NONEMPTY");
  for (CLI::Option* opt : app->get_options()) {
    // Positional arguments and --space keep their own checks ("text must not be empty",
    // "invalid space name").
    const std::string name = opt->get_name();
    if (opt->nonpositional() && opt->get_expected_min() > 0 && name != "--cursor" &&
        name != "--space") {
      opt->check(non_empty);
    }
  }
  for (CLI::App* sub : app->get_subcommands({})) RefuseEmptyValues(sub);
}

}  // namespace

void AddSearchParamFlags(CLI::App* cmd, SearchRequest* tuning) {
  for (const SearchParam& p : SearchParams()) {
    CLI::Option* o = p.number != nullptr ? cmd->add_option(p.Flag(), tuning->*p.number, p.help)
                                         : cmd->add_option(p.Flag(), tuning->*p.integer, p.help);
    o->capture_default_str();
  }
}

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict:
    case StatusCode::kTooLarge:
    case StatusCode::kFailedPrecondition:
      return kExitBadInput;
    default:
      return kExitInternal;
  }
}

void Output::Emit(const util::Json& j, const std::string& human) const {
  if (json_) {
    std::cout << util::DumpJson(j) << "\n";
  } else {
    std::cout << human << "\n";
  }
}

int Output::Fail(const Status& s) const {
  std::cerr << "mnemo: " << s.message() << "\n";
  if (json_) {
    std::cout << util::DumpJson(
                     {{"error", {{"code", StatusCodeName(s.code())}, {"message", s.message()}}}})
              << "\n";
  }
  return ExitCodeFor(s);
}

int Main(int argc, char** argv) {
  CLI::App app{"mnemo: long-term memory for LLM agents"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("mnemo ") + MNEMO_VERSION);
  app.fallthrough();
  std::string data = DefaultDataDir();
  bool json = false;
  app.add_option("--data", data, "data directory (default: $MNEMO_DATA, else ./mnemo-data)");
  app.add_flag("--json", json, "print JSON");
  std::vector<std::string> overrides;
  app.add_option("--set", overrides,
                 "configuration KEY=VALUE over config.json and MNEMO_* (repeatable), "
                 "e.g. --set chat.model=llama3.1")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  Args a;

  auto* init = app.add_subcommand("init", "create the data directory");
  auto* demo = app.add_subcommand("demo", "ingest a sample conversation and search it");

  auto* space = app.add_subcommand("space", "create, list or drop spaces");
  space->require_subcommand(1);
  std::string space_name;
  auto* space_create = space->add_subcommand("create", "create a space");
  space_create->add_option("NAME", space_name, "space name")->required();
  auto* space_list = space->add_subcommand("list", "list spaces");
  auto* space_drop = space->add_subcommand("drop", "delete a space and all its memories");
  space_drop->add_option("NAME", space_name, "space name")->required();

  auto add_space = [&](CLI::App* cmd) { cmd->add_option("--space", a.space, "space")->required(); };

  auto* add = app.add_subcommand("add", "add a memory");
  add_space(add);
  add->add_option("--user", a.user, "user the memory belongs to")->required();
  add->add_option("--agent", a.agent, "agent");
  add->add_option("--session", a.session, "session");
  add->add_option("--kind", a.kind, "episode (default), fact, preference, procedure, summary");
  add->add_option("--role", a.role, "user, assistant, system, tool, ...");
  add->add_option("--speaker", a.speaker, "speaker name");
  add->add_option("--time", a.time, "event time, ISO 8601 (default: now)");
  add->add_option("--meta", a.meta, "metadata JSON object");
  add->add_option("--tag", a.tags, "tag (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add->add_option("--importance", a.importance, "0..1 (default 0.5)");
  add->add_option("--label", a.labels,
                  "a sensitivity label to add to those found in the text (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add->add_option("--ttl", a.ttl, "expire this long after now: 90d, 12h, 30m, 45s, 2w");
  add->add_option("--expires", a.expires, "expire at this time (ISO 8601)");
  add->add_option("--origin", a.origin,
                  "where the text came from: user (default), assistant, tool, import, web; "
                  "tool and web text that reads as instructions to the agent is quarantined");
  add->add_option("TEXT", a.text, "the memory's text")->required();

  auto* ingest = app.add_subcommand("ingest", "ingest JSONL conversation messages");
  add_space(ingest);
  ingest->add_option("--user", a.user, "user the conversation belongs to (not with --format)");
  ingest->add_option("--format", a.format,
                     "locomo or longmemeval: a benchmark file, one user per conversation");
  ingest->add_flag("--skip-bad", a.skip_bad, "with --format: skip and count malformed records");
  ingest->add_option("FILE", a.file, "JSONL file, or - for standard input")->required();

  auto* get = app.add_subcommand("get", "show a memory");
  auto* history = app.add_subcommand("history", "show a memory's versions");
  auto* update = app.add_subcommand(
      "update", "replace a memory's text, or quarantine or release it (new version)");
  auto* del = app.add_subcommand("delete", "retire a memory (or erase it with --purge)");
  for (auto* cmd : {get, history, update, del}) {
    add_space(cmd);
    cmd->add_option("ID", a.id, "memory id")->required();
  }
  get->add_flag("--provenance", a.provenance,
                "show the memories it was derived from, down to the episodes");
  get->add_flag("--reveal", a.reveal,
                "show the secrets (tokens, passwords, card numbers) hidden in its text");
  update->add_option("TEXT", a.text, "new text");
  update->add_flag("--quarantine", a.quarantine,
                   "keep it out of context and default search (reason: --reason)");
  update->add_flag("--release", a.release, "release it from quarantine (admin)");
  update->add_option("--reason", a.reason, "recorded in history");
  del->add_flag("--purge", a.purge, "erase the text everywhere (irreversible)");
  del->add_option("--reason", a.reason, "recorded in history");

  auto* list = app.add_subcommand("list", "list memories, oldest first");
  add_space(list);
  a.filter.Register(list, /*with_all_users=*/false);
  list->add_option("--limit", a.limit, "page size (default 100)");
  list->add_option("--cursor", a.cursor, "next_cursor of the previous page");
  list->add_flag("--desc", a.desc, "newest first");

  auto* users = app.add_subcommand("users", "list the users of a space, with their memory counts");
  add_space(users);
  users->add_option("--limit", a.limit, "page size (default 100)");
  users->add_option("--cursor", a.cursor, "next_cursor of the previous page");

  auto* search = app.add_subcommand("search", "hybrid search");
  add_space(search);
  a.filter.Register(search, /*with_all_users=*/true);
  search->add_option("--k", a.k, "number of results (default 10)");
  search->add_flag("--explain", a.explain, "show each signal's contribution");
  search->add_flag("--expand-links", a.expand_links,
                   "also return memories linked to the results (sources, related, superseded)");
  search->add_option("--fusion", a.fusion, "rrf (default) or weighted");
  AddSearchParamFlags(search, &a.tuning);
  search
      ->add_option("--now", a.now,
                   "reference time of the query's relative dates (\"last week\"); ISO 8601, "
                   "default now")
      ->capture_default_str();
  search->add_option("--batch", a.batch, "JSONL file of searches, one result line each");
  search->add_option("QUERY", a.query_words, "query text");

  auto* exp = app.add_subcommand("export", "export a space as lossless JSONL");
  add_space(exp);
  exp->add_option("FILE", a.file, "output file (default: standard output)");
  auto* user_cmd =
      app.add_subcommand("user", "one user's data (data-subject requests): export it, or erase it");
  user_cmd->require_subcommand(1);
  auto* user_export = user_cmd->add_subcommand(
      "export", "export every memory of one user, any state, with history and links (JSONL)");
  add_space(user_export);
  user_export->add_option("--user", a.user, "the user")->required();
  user_export->add_option("FILE", a.file, "output file (default: standard output)");
  auto* user_erase = user_cmd->add_subcommand(
      "erase", "erase every memory, history row, index entry and job of one user (irreversible)");
  add_space(user_erase);
  user_erase->add_option("--user", a.user, "the user")->required();
  user_erase->add_option("--reason", a.reason, "why (checked, not kept)");
  auto* imp = app.add_subcommand("import", "import an export into a space");
  add_space(imp);
  imp->add_option("FILE", a.file, "export file (- for stdin)")->required();

  auto* stats = app.add_subcommand("stats", "space statistics");
  add_space(stats);
  auto* maintain = app.add_subcommand(
      "maintain", "run the lifecycle now: save recalls, expire, purge, move tiers");
  add_space(maintain);

  EvalArgs eval_args;
  const EvalCommands eval = RegisterEval(&app, &eval_args);
  ServeArgs serve_args;
  auto* serve = RegisterServe(&app, &serve_args);
  McpArgs mcp_args;
  auto* mcp = RegisterMcp(&app, &mcp_args);
  KeysArgs keys_args;
  const KeysCommands keys = RegisterKeys(&app, &keys_args);
  const ConfigCommands config = RegisterConfig(&app);
  JobsArgs jobs_args;
  const JobsCommands jobs = RegisterJobs(&app, &jobs_args);
  ContextArgs context_args;
  const ContextCommands context = RegisterContext(&app, &context_args);
  DocsCommands docs;
  RegisterDocs(&app, &docs);
  RefuseEmptyValues(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    const std::optional<std::string> unknown = UnknownWordMessage(app, argc, argv);
    const std::string message = unknown ? *unknown : e.what();
    std::cerr << "mnemo: " << message << (unknown ? "" : "\nRun 'mnemo --help' for usage.") << "\n";
    if (json) {
      std::cout << util::DumpJson({{"error", {{"code", "invalid_argument"}, {"message", message}}}})
                << "\n";
    }
    return kExitBadInput;
  }
  if (search->parsed() && a.batch.empty() && a.query_words.empty()) {
    return Output(json).Fail(Status::InvalidArgument("search needs a QUERY (or --batch FILE)"));
  }
  if (search->parsed() && !a.batch.empty() && !a.query_words.empty()) {
    return Output(json).Fail(Status::InvalidArgument("give either a QUERY or --batch, not both"));
  }

  if (docs.man->parsed() || docs.completion->parsed()) return RunDocs(app, docs);
  SetConfigOverrides(overrides);
  if (config.show->parsed()) return RunConfigShow(data, Output(json));
  if (context.profile->parsed() || context.context->parsed())
    return RunContextCommand(data, context, context_args, Output(json));
  if (jobs.list->parsed() || jobs.retry->parsed() || jobs.stats->parsed() || jobs.run->parsed())
    return RunJobsCommand(data, jobs, jobs_args, Output(json));
  if (eval.locomo->parsed()) return RunEval("locomo", eval_args, Output(json));
  if (eval.longmemeval->parsed()) return RunEval("longmemeval", eval_args, Output(json));
  if (eval.integrity->parsed()) return RunIntegrityEval(data, eval_args, Output(json));
  if (serve->parsed()) return RunServe(data, serve_args, Output(json));
  if (mcp->parsed()) return RunMcp(data, mcp_args);
  if (keys.keys->parsed()) return RunKeys(data, keys, keys_args, Output(json));
  Runner r(data, Output(json));
  if (init->parsed()) return r.Init();
  if (demo->parsed()) return r.Demo();
  if (space_create->parsed()) return r.SpaceCreate(space_name);
  if (space_list->parsed()) return r.SpaceList();
  if (space_drop->parsed()) return r.SpaceDrop(space_name);
  if (add->parsed()) return r.Add(a);
  if (ingest->parsed()) return r.Ingest(a);
  if (get->parsed()) return r.Get(a);
  if (history->parsed()) return r.History(a);
  if (update->parsed()) {
    a.text_given = update->get_option("TEXT")->count() > 0;
    return r.Update(a);
  }
  if (del->parsed()) return r.Delete(a);
  if (list->parsed()) return r.List(a);
  if (users->parsed()) return r.Users(a);
  if (search->parsed()) return r.Search(a);
  if (exp->parsed() || user_export->parsed()) return r.Export(a);
  if (user_erase->parsed()) return r.EraseUser(a);
  if (imp->parsed()) return r.Import(a);
  if (stats->parsed()) return r.Report("get_space", a);
  if (maintain->parsed()) return r.Report("maintain", a);
  return kExitBadInput;
}

}  // namespace mnemo::cli

int main(int argc, char** argv) {
  // Every file mnemo writes (databases, snapshots, keys, exports) is owner-only, whatever
  // the umask it was started with; the engine makes its directories 0700 as well.
  umask(077);
  return mnemo::cli::Main(argc, argv);
}
