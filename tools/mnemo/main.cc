// mnemo — the command line. Parses arguments, calls the engine, prints the result.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

#include "cli.h"
#include "config_cmd.h"
#include "context_cmd.h"
#include "eval_cmd.h"
#include "mnemo/engine.h"
#include "mnemo/search_params.h"
#include "server_cmd.h"
#include "util/json_codec.h"
#include "util/time_util.h"

namespace mnemo::cli {
namespace {

using util::Json;

struct FilterArgs {
  std::string user, agent, session, since, until, as_of, valid_at, filters;
  std::vector<std::string> kinds, tags, meta_eq;
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
    cmd->add_option("--as-of", as_of,
                    "as mnemo knew it at this time (ISO 8601): the memories it held then, "
                    "in their version of then");
    cmd->add_option("--valid-at", valid_at,
                    "what was true at this time (ISO 8601), superseded facts included");
  }

  Result<Filter> Build() const {
    Filter f;
    f.user_id = user;
    f.all_users = all_users;
    f.agent_id = agent;
    f.session_id = session;
    for (const auto& k : kinds) {
      MNEMO_ASSIGN_OR_RETURN(Kind kind, ParseKind(k));
      f.kinds.push_back(kind);
    }
    if (!since.empty()) {
      MNEMO_ASSIGN_OR_RETURN(f.time_from, util::ParseIso8601(since));
    }
    if (!until.empty()) {
      MNEMO_ASSIGN_OR_RETURN(f.time_to, util::ParseIso8601(until));
    }
    for (auto [text, field, name] : {std::tuple{&as_of, &f.as_of, "--as-of"},
                                     std::tuple{&valid_at, &f.valid_at, "--valid-at"}}) {
      if (text->empty()) continue;
      auto t = util::ParseIso8601(*text);
      if (!t.ok()) return t.status().WithContext(name);
      *field = *t;
    }
    f.tags = tags;
    for (const auto& kv : meta_eq) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Status::InvalidArgument("--meta-eq takes KEY=VALUE, got \"" + kv + "\"");
      }
      const std::string value = kv.substr(eq + 1);
      auto parsed = util::ParseJson(value);
      f.meta_equals.emplace_back(
          kv.substr(0, eq), parsed.ok() ? util::DumpJson(*parsed) : util::DumpJson(Json(value)));
    }
    f.expression = filters;  // checked by the engine
    f.include_retired = include_retired;
    f.include_archived = include_archived;
    return f;
  }
};

std::string DefaultDataDir() {
  if (const char* env = std::getenv("MNEMO_DATA"); env && *env) return env;
  return "mnemo-data";
}

std::string ShortTime(const std::optional<TimeMs>& t) {
  if (!t) return "----------";
  std::string s = util::FormatIso8601(*t);
  return s.substr(0, 10) + " " + s.substr(11, 5);
}

std::string HumanMemory(const Memory& m) {
  std::ostringstream os;
  os << "id " << m.id << " v" << m.version << " " << KindName(m.kind) << " (" << StateName(m.state)
     << ")\n"
     << "  user " << m.user_id;
  if (!m.session_id.empty()) os << "  session " << m.session_id;
  if (!m.speaker.empty() || !m.role.empty()) os << "  " << (m.speaker.empty() ? m.role : m.speaker);
  os << "  time " << ShortTime(m.event_time) << "\n  " << m.text;
  return os.str();
}

std::string HumanHit(size_t rank, const SearchHit& h) {
  std::ostringstream os;
  const Memory& m = h.memory;
  os << rank << ". [" << ShortTime(m.event_time) << "] ";
  const std::string& who = m.speaker.empty() ? m.role : m.speaker;
  if (!who.empty()) os << who << ": ";
  os << m.text << "  (score " << h.score << ", id " << m.id << ")";
  for (const auto& e : h.explanation) {
    os << "\n     " << e.signal << ": rank " << e.rank << ", raw " << e.raw << ", +"
       << e.contribution;
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

// Engine errors for item N of a batch become errors for the line it came from.
Status ItemToLine(const Status& s, const std::vector<size_t>& lines) {
  const std::string& msg = s.message();
  if (msg.rfind("item ", 0) == 0) {
    const size_t colon = msg.find(':');
    const size_t item = std::strtoul(msg.c_str() + 5, nullptr, 10);
    if (colon != std::string::npos && item >= 1 && item <= lines.size()) {
      return Status(s.code(), "line " + std::to_string(lines[item - 1]) + msg.substr(colon));
    }
  }
  return s;
}

struct Args {
  std::string space, user, agent, session, kind = "episode", role, speaker, time, meta, text;
  std::string id, file, cursor, batch, reason, fusion = "rrf", format, now, ttl, expires;
  std::vector<std::string> tags;
  std::vector<std::string> query_words;
  double importance = 0.5;
  // Search tuning (mnemo/search_params.h): the engine's defaults.
  SearchRequest tuning;
  int k = 10, limit = 100;
  bool purge = false, explain = false, desc = false, skip_bad = false, provenance = false;
  bool expand_links = false;
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
    return WithEngine([&](Engine& e) {
      Status s = e.CreateSpace(name);
      if (!s.ok()) return out_.Fail(s);
      out_.Emit({{"space", name}, {"created", true}}, "created space '" + name + "'");
      return int(kExitOk);
    });
  }

  int SpaceList() {
    return WithEngine([&](Engine& e) {
      auto spaces = e.ListSpaces();
      if (!spaces.ok()) return out_.Fail(spaces.status());
      Json arr = Json::array();
      std::string human;
      for (const auto& s : *spaces) {
        arr.push_back({{"name", s.name}, {"memories", s.memories}});
        human += s.name + "\t" + std::to_string(s.memories) + " memories\n";
      }
      if (!human.empty()) human.pop_back();
      out_.Emit({{"spaces", arr}}, human.empty() ? "(no spaces)" : human);
      return int(kExitOk);
    });
  }

  int SpaceDrop(const std::string& name) {
    return WithEngine([&](Engine& e) {
      Status s = e.DropSpace(name);
      if (!s.ok()) return out_.Fail(s);
      out_.Emit({{"space", name}, {"dropped", true}}, "dropped space '" + name + "'");
      return int(kExitOk);
    });
  }

  int Add(const Args& a) {
    MemoryInput in;
    in.text = a.text;
    in.user_id = a.user;
    in.agent_id = a.agent;
    in.session_id = a.session;
    in.role = a.role;
    in.speaker = a.speaker;
    in.tags = a.tags;
    in.importance = a.importance;
    in.metadata = a.meta.empty() ? "{}" : a.meta;
    auto kind = ParseKind(a.kind);
    if (!kind.ok()) return out_.Fail(kind.status());
    in.kind = *kind;
    if (!a.time.empty()) {
      auto t = util::ParseIso8601(a.time);
      if (!t.ok()) return out_.Fail(t.status().WithContext("--time"));
      in.event_time = *t;
    }
    if (!a.ttl.empty() && !a.expires.empty()) {
      return out_.Fail(Status::InvalidArgument("give either --ttl or --expires, not both"));
    }
    if (!a.ttl.empty()) {
      auto ms = util::ParseDuration(a.ttl);
      if (!ms.ok()) return out_.Fail(ms.status().WithContext("--ttl"));
      in.ttl_ms = *ms;
    }
    if (!a.expires.empty()) {
      auto t = util::ParseIso8601(a.expires);
      if (!t.ok()) return out_.Fail(t.status().WithContext("--expires"));
      in.expires_at = *t;
    }
    if (a.role == "assistant") in.origin = Origin::kAssistant;
    if (a.role == "tool") in.origin = Origin::kTool;
    return WithEngine([&](Engine& e) {
      auto id = e.Add(a.space, in);
      if (!id.ok()) return out_.Fail(id.status());
      DeriveNow(e, a.space);
      out_.Emit({{"id", *id}}, "added memory " + std::to_string(*id));
      return int(kExitOk);
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
    std::vector<Message> messages;
    std::vector<size_t> lines;
    for (auto& [n, line] : JsonLines(*data)) {
      auto j = util::ParseJson(line);
      if (!j.ok()) return out_.Fail(j.status().WithContext("line " + std::to_string(n)));
      auto m = util::MessageFromJson(*j);
      if (!m.ok()) return out_.Fail(m.status().WithContext("line " + std::to_string(n)));
      messages.push_back(std::move(m).value());
      lines.push_back(n);
    }
    if (messages.empty()) return out_.Fail(Status::InvalidArgument("no messages in " + a.file));
    return WithEngine([&](Engine& e) {
      auto r = e.Ingest(a.space, a.user, messages);
      if (!r.ok()) return out_.Fail(ItemToLine(r.status(), lines));
      DeriveNow(e, a.space);
      out_.Emit({{"added", r->ids.size()}}, "added " + std::to_string(r->ids.size()) + " memories");
      return int(kExitOk);
    });
  }

  int Get(const Args& a) {
    if (a.provenance) return Provenance(a);
    return WithId(a, [&](Engine& e, MemoryId id) {
      auto m = e.Get(a.space, id);
      if (!m.ok()) return out_.Fail(m.status());
      out_.Emit(util::MemoryToJson(*m), HumanMemory(*m));
      return int(kExitOk);
    });
  }

  int Provenance(const Args& a) {
    return WithId(a, [&](Engine& e, MemoryId id) {
      auto steps = e.Provenance(a.space, id);
      if (!steps.ok()) return out_.Fail(steps.status());
      Json arr = Json::array();
      std::string human;
      for (const auto& step : *steps) {
        Json j = util::MemoryToJson(step.memory);
        j["depth"] = step.depth;
        if (step.derived_into != 0) j["derived_into"] = step.derived_into;
        arr.push_back(std::move(j));
        std::string indent(static_cast<size_t>(step.depth) * 2, ' ');
        std::string block = HumanMemory(step.memory);
        for (size_t pos = 0; (pos = block.find('\n', pos)) != std::string::npos; pos += 1)
          block.insert(pos + 1, indent);
        human += indent + (step.depth ? "<- " : "") + block + "\n";
      }
      if (!human.empty()) human.pop_back();
      out_.Emit({{"id", id}, {"provenance", arr}}, human);
      return int(kExitOk);
    });
  }

  int History(const Args& a) {
    return WithId(a, [&](Engine& e, MemoryId id) {
      auto h = e.History(a.space, id);
      if (!h.ok()) return out_.Fail(h.status());
      Json arr = Json::array();
      std::string human;
      for (const auto& entry : *h) {
        arr.push_back(util::HistoryToJson(entry));
        human += "v" + std::to_string(entry.version) + " " + std::string(HistoryOpName(entry.op)) +
                 " at " + util::FormatIso8601(entry.time) + " by " + entry.actor +
                 (entry.reason.empty() ? "" : " (" + entry.reason + ")") + "\n";
      }
      if (!human.empty()) human.pop_back();
      out_.Emit({{"id", id}, {"history", arr}}, human);
      return int(kExitOk);
    });
  }

  int Update(const Args& a) {
    MemoryUpdate u;
    u.text = a.text;
    u.reason = a.reason;
    u.actor = "cli";
    return WithId(a, [&](Engine& e, MemoryId id) {
      auto m = e.Update(a.space, id, u);
      if (!m.ok()) return out_.Fail(m.status());
      out_.Emit(util::MemoryToJson(*m), "updated memory " + std::to_string(id) + " to version " +
                                            std::to_string(m->version));
      return int(kExitOk);
    });
  }

  int Delete(const Args& a) {
    return WithId(a, [&](Engine& e, MemoryId id) {
      Status s = a.purge ? e.Purge(a.space, id, a.reason) : e.Remove(a.space, id, a.reason);
      if (!s.ok()) return out_.Fail(s);
      out_.Emit({{"id", id}, {"deleted", true}, {"purged", a.purge}},
                (a.purge ? "purged memory " : "removed memory ") + std::to_string(id));
      return int(kExitOk);
    });
  }

  int List(const Args& a) {
    ListRequest req;
    auto f = a.filter.Build();
    if (!f.ok()) return out_.Fail(f.status());
    req.filter = *f;
    req.limit = a.limit;
    req.cursor = a.cursor;
    req.descending = a.desc;
    return WithEngine([&](Engine& e) {
      auto page = e.List(a.space, req);
      if (!page.ok()) return out_.Fail(page.status());
      Json arr = Json::array();
      std::string human;
      for (const auto& m : page->memories) {
        arr.push_back(util::MemoryToJson(m));
        human += std::to_string(m.id) + "  " + ShortTime(m.event_time) + "  " +
                 std::string(KindName(m.kind)) + "  " + m.user_id + "  " +
                 (m.text.size() > 80 ? m.text.substr(0, 77) + "..." : m.text) + "\n";
      }
      if (!page->next_cursor.empty()) human += "next page: --cursor " + page->next_cursor + "\n";
      if (!human.empty()) human.pop_back();
      out_.Emit(
          {{"memories", arr},
           {"next_cursor", page->next_cursor.empty() ? Json(nullptr) : Json(page->next_cursor)}},
          human.empty() ? "(no memories)" : human);
      return int(kExitOk);
    });
  }

  int Search(const Args& a) {
    if (!a.batch.empty()) return SearchBatch(a);
    SearchRequest req = a.tuning;
    for (const auto& w : a.query_words) req.query += (req.query.empty() ? "" : " ") + w;
    auto f = a.filter.Build();
    if (!f.ok()) return out_.Fail(f.status());
    req.filter = *f;
    req.k = a.k;
    req.explain = a.explain;
    req.expand_links = a.expand_links;
    if (!a.now.empty()) {
      auto t = util::ParseIso8601(a.now);
      if (!t.ok()) return out_.Fail(t.status().WithContext("--now"));
      req.now = *t;
    }
    if (a.fusion == "weighted") {
      req.fusion = Fusion::kWeighted;
    } else if (a.fusion != "rrf") {
      return out_.Fail(Status::InvalidArgument("--fusion must be rrf or weighted"));
    }
    return WithEngine([&](Engine& e) {
      auto hits = e.Search(a.space, req);
      if (!hits.ok()) return out_.Fail(hits.status());
      Json arr = Json::array();
      std::string human;
      for (size_t i = 0; i < hits->size(); ++i) {
        arr.push_back(util::SearchHitToJson((*hits)[i]));
        human += HumanHit(i + 1, (*hits)[i]) + "\n";
      }
      if (!human.empty()) human.pop_back();
      out_.Emit({{"results", arr}}, human.empty() ? "(no results)" : human);
      return int(kExitOk);
    });
  }

  int Export(const Args& a) {
    return WithEngine([&](Engine& e) {
      if (a.file.empty() || a.file == "-") {
        Status s = e.Export(a.space, std::cout);
        return s.ok() ? int(kExitOk) : out_.Fail(s);
      }
      const std::string tmp = a.file + ".partial";
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return out_.Fail(Status::IOError("cannot write " + tmp));
      Status s = e.Export(a.space, out);
      out.close();
      if (s.ok() && !out) s = Status::IOError("writing " + tmp + " failed");
      if (s.ok() && std::rename(tmp.c_str(), a.file.c_str()) != 0) {
        s = Status::IOError("cannot rename " + tmp + " to " + a.file);
      }
      if (!s.ok()) {
        std::remove(tmp.c_str());
        return out_.Fail(s);
      }
      out_.Emit({{"space", a.space}, {"file", a.file}},
                "exported space '" + a.space + "' to " + a.file);
      return int(kExitOk);
    });
  }

  int Import(const Args& a) {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return out_.Fail(Status::NotFound("cannot open " + a.file));
    return WithEngine([&](Engine& e) {
      auto r = e.Import(a.space, in);
      if (!r.ok()) return out_.Fail(r.status());
      out_.Emit({{"memories", r->memories}, {"history", r->history_entries}, {"links", r->links}},
                "imported " + std::to_string(r->memories) + " memories, " +
                    std::to_string(r->history_entries) + " history entries, " +
                    std::to_string(r->links) + " links");
      return int(kExitOk);
    });
  }

  int Stats(const Args& a) {
    return WithEngine([&](Engine& e) {
      auto s = e.Stats(a.space);
      if (!s.ok()) return out_.Fail(s.status());
      Json j = util::StatsToJson(*s);
      std::string human;
      for (auto it = j.begin(); it != j.end(); ++it) {
        human += it.key() + ": " + (it->is_string() ? it->get<std::string>() : it->dump()) + "\n";
      }
      human.pop_back();
      out_.Emit(j, human);
      return int(kExitOk);
    });
  }

  int Maintain(const Args& a) {
    return WithEngine([&](Engine& e) {
      auto r = e.Maintain(a.space);
      if (!r.ok()) return out_.Fail(r.status());
      Json j = util::MaintenanceReportToJson(*r);
      std::string human;
      for (auto it = j.begin(); it != j.end(); ++it) {
        human += it.key() + ": " + it->dump() + "\n";
      }
      human.pop_back();
      out_.Emit(j, human);
      return int(kExitOk);
    });
  }

  int Demo() {
    auto o = EngineOptions(data_);
    if (!o.ok()) return out_.Fail(o.status());
    o->create_if_missing = true;
    auto engine = Engine::Open(data_, *o);
    if (!engine.ok()) return out_.Fail(engine.status());
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
        human += "  " + HumanHit(i + 1, (*hits)[i]) + "\n";
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
  template <typename Fn>
  int WithEngine(Fn fn) {
    auto o = EngineOptions(data_);
    if (!o.ok()) return out_.Fail(o.status());
    o->max_batch = 10'000'000;  // a CLI ingest or import is one transaction: all or nothing
    rules_only_ = o->chat_model == nullptr;
    auto engine = Engine::Open(data_, *o);
    if (!engine.ok()) return out_.Fail(engine.status());
    return fn(**engine);
  }

  // Without a chat model the pipeline's rules take milliseconds: a CLI write runs them
  // before returning, so the derived memories exist when the command ends. With a model,
  // the server or `mnemo jobs run` does that work.
  void DeriveNow(Engine& e, const std::string& space) {
    if (!rules_only_) return;
    if (Status s = e.RunJobs(space, /*summaries_now=*/false); !s.ok()) {
      std::cerr << "mnemo: warning: derivation postponed: " << s.message() << "\n";
    }
  }

  template <typename Fn>
  int WithId(const Args& a, Fn fn) {
    auto id = ParseId(a.id);
    if (!id.ok()) return out_.Fail(id.status());
    return WithEngine([&](Engine& e) { return fn(e, *id); });
  }

  int SearchBatch(const Args& a) {
    auto data = ReadInput(a.batch);
    if (!data.ok()) return out_.Fail(data.status());
    return WithEngine([&](Engine& e) {
      int rc = kExitOk;
      for (auto& [n, line] : JsonLines(*data)) {
        auto j = util::ParseJson(line);
        Result<SearchRequest> req =
            j.ok() ? util::SearchRequestFromJson(*j) : Result<SearchRequest>(j.status());
        Result<std::vector<SearchHit>> hits =
            req.ok() ? e.Search(a.space, *req) : Result<std::vector<SearchHit>>(req.status());
        if (!hits.ok()) {
          const Status s = hits.status().WithContext("line " + std::to_string(n));
          std::cout << util::DumpJson(
                           {{"error",
                             {{"code", StatusCodeName(s.code())}, {"message", s.message()}}}})
                    << "\n";
          if (rc == kExitOk) rc = ExitCodeFor(s);
          continue;
        }
        Json arr = Json::array();
        for (const auto& h : *hits) arr.push_back(util::SearchHitToJson(h));
        std::cout << util::DumpJson({{"results", arr}}) << "\n";
      }
      return rc;
    });
  }

  std::string data_;
  Output out_;
  bool rules_only_ = true;
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
  add->add_option("--ttl", a.ttl, "expire this long after now: 90d, 12h, 30m, 45s, 2w");
  add->add_option("--expires", a.expires, "expire at this time (ISO 8601)");
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
  auto* update = app.add_subcommand("update", "replace a memory's text (new version)");
  auto* del = app.add_subcommand("delete", "retire a memory (or erase it with --purge)");
  for (auto* cmd : {get, history, update, del}) {
    add_space(cmd);
    cmd->add_option("ID", a.id, "memory id")->required();
  }
  get->add_flag("--provenance", a.provenance,
                "show the memories it was derived from, down to the episodes");
  update->add_option("TEXT", a.text, "new text")->required();
  update->add_option("--reason", a.reason, "recorded in history");
  del->add_flag("--purge", a.purge, "erase the text everywhere (irreversible)");
  del->add_option("--reason", a.reason, "recorded in history");

  auto* list = app.add_subcommand("list", "list memories, oldest first");
  add_space(list);
  a.filter.Register(list, /*with_all_users=*/false);
  list->add_option("--limit", a.limit, "page size (default 100)");
  list->add_option("--cursor", a.cursor, "next_cursor of the previous page");
  list->add_flag("--desc", a.desc, "newest first");

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
  auto* imp = app.add_subcommand("import", "import an export into a space");
  add_space(imp);
  imp->add_option("FILE", a.file, "export file")->required();

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
  RefuseEmptyValues(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "mnemo: " << e.what() << "\nRun 'mnemo --help' for usage.\n";
    if (json) {
      std::cout << util::DumpJson(
                       {{"error", {{"code", "invalid_argument"}, {"message", e.what()}}}})
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

  SetConfigOverrides(overrides);
  if (config.show->parsed()) return RunConfigShow(data, Output(json));
  if (context.profile->parsed() || context.context->parsed())
    return RunContextCommand(data, context, context_args, Output(json));
  if (jobs.list->parsed() || jobs.retry->parsed() || jobs.stats->parsed() || jobs.run->parsed())
    return RunJobsCommand(data, jobs, jobs_args, Output(json));
  if (eval.locomo->parsed()) return RunEval("locomo", eval_args, Output(json));
  if (eval.longmemeval->parsed()) return RunEval("longmemeval", eval_args, Output(json));
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
  if (update->parsed()) return r.Update(a);
  if (del->parsed()) return r.Delete(a);
  if (list->parsed()) return r.List(a);
  if (search->parsed()) return r.Search(a);
  if (exp->parsed()) return r.Export(a);
  if (imp->parsed()) return r.Import(a);
  if (stats->parsed()) return r.Stats(a);
  if (maintain->parsed()) return r.Maintain(a);
  return kExitBadInput;
}

}  // namespace mnemo::cli

int main(int argc, char** argv) { return mnemo::cli::Main(argc, argv); }
