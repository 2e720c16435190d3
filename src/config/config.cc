#include "config/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "llm/openai.h"
#include "util/fs.h"
#include "util/time_util.h"
#include "util/url.h"

extern char** environ;

namespace mnemo::config {
namespace {

using util::Json;

// Every key with its default: the schema of config.json (unknown keys are errors).
Json ProviderDefaults() {
  llm::ProviderConfig d;
  return {{"base_url", ""},
          {"model", ""},
          {"api_key_env", ""},
          {"timeout_ms", d.timeout_ms},
          {"connect_timeout_ms", d.connect_timeout_ms},
          {"max_retries", d.max_retries},
          {"backoff_initial_ms", d.backoff_initial_ms},
          {"backoff_max_ms", d.backoff_max_ms},
          {"max_concurrency", d.max_concurrency}};
}

Json PipelineDefaults() {
  PipelineOptions d;
  return {{"enabled", d.enabled},
          {"use_model", d.use_model},
          {"window_turns", d.window_turns},
          {"window_wait_ms", d.window_wait_ms},
          {"max_attempts", d.max_attempts},
          {"retry_initial_ms", d.retry_initial_ms},
          {"retry_max_ms", d.retry_max_ms},
          {"daily_token_budget", d.daily_token_budget},
          {"link_k", d.link_k},
          {"link_min_similarity", d.link_min_similarity},
          {"summaries", d.summaries},
          {"summary_wait_ms", d.summary_wait_ms},
          {"topic_min_memories", d.topic_min_memories}};
}

Json LifecycleDefaults() {
  LifecycleOptions d;
  Json ttl = Json::object();
  for (Kind k :
       {Kind::kEpisode, Kind::kFact, Kind::kPreference, Kind::kProcedure, Kind::kSummary}) {
    ttl[std::string(KindName(k))] = 0;
  }
  return {{"half_life_days", d.half_life_days},
          {"max_strength", d.max_strength},
          {"working_capacity", d.working_capacity},
          {"working_idle_ms", d.working_idle_ms},
          {"promote_heat", d.promote_heat},
          {"demote_heat", d.demote_heat},
          {"user_capacity", d.user_capacity},
          {"ttl_ms", ttl},
          {"purge_expired_after_ms", d.purge_expired_after_ms},
          {"maintenance_interval_ms", d.maintenance_interval_ms}};
}

Json Defaults() {
  Json embedding = ProviderDefaults();
  embedding["provider"] = "builtin";
  embedding["dimensions"] = 0;
  embedding["batch_size"] = llm::ProviderConfig{}.batch_size;
  embedding["send_dimensions"] = false;
  embedding["reembed"] = Options{}.reembed_on_embedder_change;
  Json chat = ProviderDefaults();
  const Options o;
  return {{"embedding", embedding},
          {"chat", chat},
          {"pipeline", PipelineDefaults()},
          {"lifecycle", LifecycleDefaults()},
          {"storage",
           {{"mmap_mb", o.sqlite_mmap_bytes >> 20}, {"cache_mb", o.sqlite_cache_bytes >> 20}}},
          {"security", {{"quarantine", o.quarantine_instructions}}},
          {"spaces", Json::object()}};
}

// Storage settings: megabytes, bounded so that the byte counts cannot overflow.
Status StorageFrom(const Json& j, Options* o) {
  const int64_t mmap_mb = j["mmap_mb"].get<int64_t>();
  const int64_t cache_mb = j["cache_mb"].get<int64_t>();
  if (mmap_mb < 0 || mmap_mb > (int64_t{1} << 24)) {
    return Status::InvalidArgument("storage.mmap_mb must be between 0 (no map) and 16777216");
  }
  if (cache_mb < 1 || cache_mb > (int64_t{1} << 20)) {
    return Status::InvalidArgument("storage.cache_mb must be between 1 and 1048576");
  }
  o->sqlite_mmap_bytes = mmap_mb << 20;
  o->sqlite_cache_bytes = cache_mb << 20;
  return Status::Ok();
}

// Environment variables and the key each sets.
const std::vector<std::pair<const char*, const char*>>& EnvKeys() {
  static const std::vector<std::pair<const char*, const char*>> kKeys = {
      {"MNEMO_EMBEDDING_PROVIDER", "embedding.provider"},
      {"MNEMO_EMBEDDING_BASE_URL", "embedding.base_url"},
      {"MNEMO_EMBEDDING_MODEL", "embedding.model"},
      {"MNEMO_EMBEDDING_DIMENSIONS", "embedding.dimensions"},
      {"MNEMO_EMBEDDING_API_KEY_ENV", "embedding.api_key_env"},
      {"MNEMO_CHAT_BASE_URL", "chat.base_url"},
      {"MNEMO_CHAT_MODEL", "chat.model"},
      {"MNEMO_CHAT_API_KEY_ENV", "chat.api_key_env"},
      {"MNEMO_PIPELINE_ENABLED", "pipeline.enabled"},
      {"MNEMO_PIPELINE_USE_MODEL", "pipeline.use_model"},
      {"MNEMO_PIPELINE_DAILY_TOKEN_BUDGET", "pipeline.daily_token_budget"},
      {"MNEMO_STORAGE_MMAP_MB", "storage.mmap_mb"},
      {"MNEMO_STORAGE_CACHE_MB", "storage.cache_mb"},
      {"MNEMO_SECURITY_QUARANTINE", "security.quarantine"},
  };
  return kKeys;
}

// Sets `key` (dotted) in `doc` to `text`, typed like the default at that key ("spaces.S.
// pipeline.K" is typed like "pipeline.K"). Check() validates the whole document after.
Status SetKey(Json& doc, const Json& defaults, const std::string& key, const std::string& text,
              const std::string& source) {
  std::vector<std::string> parts;
  for (size_t from = 0;;) {
    const size_t dot = key.find('.', from);
    parts.push_back(key.substr(from, dot - from));
    if (dot == std::string::npos) break;
    from = dot + 1;
  }
  std::vector<std::string> typed = parts;
  if (parts.size() >= 4 && parts[0] == "spaces" &&
      (parts[2] == "pipeline" || parts[2] == "lifecycle")) {
    typed.assign(parts.begin() + 2, parts.end());
  }
  const Json* def = &defaults;
  for (const auto& p : typed) {
    if (p.empty() || !def->is_object() || !def->contains(p) || typed[0] == "spaces") {
      return Status::InvalidArgument(source + ": unknown configuration key " + key);
    }
    def = &(*def)[p];
  }
  if (def->is_object()) return Status::InvalidArgument(source + ": " + key + " is a section");
  Json value;
  if (def->is_string()) {
    value = text;
  } else {
    auto parsed = util::ParseJson(text);
    if (!parsed.ok()) {
      return Status::InvalidArgument(source + ": " + key + "=" + text + " is not a " +
                                     def->type_name());
    }
    value = std::move(parsed).value();
  }
  Json* node = &doc;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->contains(parts[i]) || !(*node)[parts[i]].is_object())
      (*node)[parts[i]] = Json::object();
    node = &(*node)[parts[i]];
  }
  (*node)[parts.back()] = std::move(value);
  return Status::Ok();
}

// Checks `doc` against `defaults`: known keys, same types; fills missing keys.
Status Check(Json& doc, const Json& defaults, const std::string& path, const std::string& source) {
  if (!doc.is_object()) {
    return Status::InvalidArgument(source + ": " + (path.empty() ? "the file" : path) +
                                   " must be a JSON object");
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string key = path.empty() ? it.key() : path + "." + it.key();
    if (path == "spaces") {
      static const Json kSpace = {{"pipeline", PipelineDefaults()},
                                  {"lifecycle", LifecycleDefaults()}};
      MNEMO_RETURN_IF_ERROR(Check(it.value(), kSpace, key, source));
      continue;
    }
    if (!defaults.contains(it.key())) {
      return Status::InvalidArgument(source + ": unknown configuration key " + key);
    }
    const Json& def = defaults[it.key()];
    const Json& v = it.value();
    const bool same = def.is_object()           ? v.is_object()
                      : def.is_boolean()        ? v.is_boolean()
                      : def.is_string()         ? v.is_string()
                      : def.is_number_integer() ? v.is_number_integer()
                                                : v.is_number();
    if (!same) {
      return Status::InvalidArgument(source + ": " + key + " must be " +
                                     (def.is_number_integer() ? "an integer" : def.type_name()));
    }
    if (def.is_object()) MNEMO_RETURN_IF_ERROR(Check(it.value(), def, key, source));
  }
  if (path.rfind("spaces.", 0) == 0) return Status::Ok();  // overrides stay partial
  for (auto it = defaults.begin(); it != defaults.end(); ++it) {
    if (!doc.contains(it.key())) doc[it.key()] = it.value();
  }
  return Status::Ok();
}

Result<PipelineOptions> PipelineFrom(const Json& j, PipelineOptions p, const std::string& where) {
  auto bad = [&](const std::string& key, const std::string& rule) {
    return Status::InvalidArgument(where + "." + key + " must be " + rule);
  };
  p.enabled = j.value("enabled", p.enabled);
  p.use_model = j.value("use_model", p.use_model);
  p.window_turns = j.value("window_turns", p.window_turns);
  p.window_wait_ms = j.value("window_wait_ms", p.window_wait_ms);
  p.max_attempts = j.value("max_attempts", p.max_attempts);
  p.retry_initial_ms = j.value("retry_initial_ms", p.retry_initial_ms);
  p.retry_max_ms = j.value("retry_max_ms", p.retry_max_ms);
  p.daily_token_budget = j.value("daily_token_budget", p.daily_token_budget);
  p.link_k = j.value("link_k", p.link_k);
  p.link_min_similarity = j.value("link_min_similarity", p.link_min_similarity);
  p.summaries = j.value("summaries", p.summaries);
  p.summary_wait_ms = j.value("summary_wait_ms", p.summary_wait_ms);
  p.topic_min_memories = j.value("topic_min_memories", p.topic_min_memories);
  if (p.window_turns < 1 || p.window_turns > 500) return bad("window_turns", "between 1 and 500");
  if (p.window_wait_ms < 0) return bad("window_wait_ms", ">= 0");
  if (p.max_attempts < 1) return bad("max_attempts", ">= 1");
  if (p.retry_initial_ms < 0 || p.retry_max_ms < p.retry_initial_ms) {
    return bad("retry_max_ms", ">= retry_initial_ms >= 0");
  }
  if (p.daily_token_budget < 0) return bad("daily_token_budget", ">= 0 (0: no limit)");
  if (p.link_k < 0 || p.link_k > 50) return bad("link_k", "between 0 and 50");
  if (!(p.link_min_similarity >= 0 && p.link_min_similarity <= 1)) {
    return bad("link_min_similarity", "between 0 and 1");
  }
  if (p.summary_wait_ms < 0) return bad("summary_wait_ms", ">= 0");
  if (p.topic_min_memories < 2 || p.topic_min_memories > 1000) {
    return bad("topic_min_memories", "between 2 and 1000");
  }
  return p;
}

Result<LifecycleOptions> LifecycleFrom(const Json& j, LifecycleOptions l,
                                       const std::string& where) {
  auto bad = [&](const std::string& key, const std::string& rule) {
    return Status::InvalidArgument(where + "." + key + " must be " + rule);
  };
  l.half_life_days = j.value("half_life_days", l.half_life_days);
  l.max_strength = j.value("max_strength", l.max_strength);
  l.working_capacity = j.value("working_capacity", l.working_capacity);
  l.working_idle_ms = j.value("working_idle_ms", l.working_idle_ms);
  l.promote_heat = j.value("promote_heat", l.promote_heat);
  l.demote_heat = j.value("demote_heat", l.demote_heat);
  l.user_capacity = j.value("user_capacity", l.user_capacity);
  l.purge_expired_after_ms = j.value("purge_expired_after_ms", l.purge_expired_after_ms);
  l.maintenance_interval_ms = j.value("maintenance_interval_ms", l.maintenance_interval_ms);
  if (j.contains("ttl_ms")) {
    for (auto it = j["ttl_ms"].begin(); it != j["ttl_ms"].end(); ++it) {
      MNEMO_ASSIGN_OR_RETURN(Kind kind, ParseKind(it.key()));
      const int64_t ttl = it.value().get<int64_t>();
      if (ttl < 0 || ttl > util::kMaxDurationMs) {
        return bad("ttl_ms." + it.key(), "between 0 (never expires) and 100 years in ms");
      }
      if (ttl == 0) {
        l.ttl_ms.erase(kind);
      } else {
        l.ttl_ms[kind] = ttl;
      }
    }
  }
  if (!(l.half_life_days > 0 && l.half_life_days <= 36500)) {
    return bad("half_life_days", "between 0 (excluded) and 36500");
  }
  if (!(l.max_strength >= 1 && l.max_strength <= 1e6)) {
    return bad("max_strength", "between 1 and 1000000");
  }
  if (l.working_capacity < 0 || l.working_capacity > 100000) {
    return bad("working_capacity", "between 0 and 100000");
  }
  if (l.working_idle_ms < 0) return bad("working_idle_ms", ">= 0");
  if (!(l.demote_heat <= l.promote_heat)) return bad("demote_heat", "<= promote_heat");
  if (l.user_capacity < 0) return bad("user_capacity", ">= 0 (0: no limit)");
  if (l.purge_expired_after_ms < -1 || l.purge_expired_after_ms > util::kMaxDurationMs) {
    return bad("purge_expired_after_ms", "-1 (never) or between 0 and 100 years in ms");
  }
  if (l.maintenance_interval_ms < 100 || l.maintenance_interval_ms > 86400000) {
    return bad("maintenance_interval_ms", "between 100 and 86400000 (a day)");
  }
  if (l.working_idle_ms > util::kMaxDurationMs) return bad("working_idle_ms", "at most 100 years");
  return l;
}

llm::ProviderConfig ProviderFrom(const Json& j, const Environment& env) {
  llm::ProviderConfig c;
  c.base_url = j.value("base_url", "");
  c.model = j.value("model", "");
  const std::string key_env = j.value("api_key_env", "");
  if (!key_env.empty()) {
    auto it = env.find(key_env);
    if (it != env.end()) c.api_key = it->second;
  }
  c.timeout_ms = j.value("timeout_ms", c.timeout_ms);
  c.connect_timeout_ms = j.value("connect_timeout_ms", c.connect_timeout_ms);
  c.max_retries = j.value("max_retries", c.max_retries);
  c.backoff_initial_ms = j.value("backoff_initial_ms", c.backoff_initial_ms);
  c.backoff_max_ms = j.value("backoff_max_ms", c.backoff_max_ms);
  c.max_concurrency = j.value("max_concurrency", c.max_concurrency);
  c.batch_size = j.value("batch_size", c.batch_size);
  c.dimensions = j.value("dimensions", c.dimensions);
  c.send_dimensions = j.value("send_dimensions", c.send_dimensions);
  return c;
}

}  // namespace

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos)
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

Result<Json> Load(const std::string& data_dir, const std::vector<std::string>& overrides,
                  const Environment& env) {
  const Json defaults = Defaults();
  Json doc = Json::object();
  const std::string path = data_dir + "/config.json";
  if (util::PathExists(path)) {
    MNEMO_ASSIGN_OR_RETURN(std::string text, util::ReadFile(path));
    auto parsed = util::ParseJson(text);
    if (!parsed.ok()) return parsed.status().WithContext(path);
    doc = std::move(parsed).value();
    MNEMO_RETURN_IF_ERROR(Check(doc, defaults, "", path));
  }
  for (const auto& [var, key] : EnvKeys()) {
    auto it = env.find(var);
    if (it != env.end() && !it->second.empty())
      MNEMO_RETURN_IF_ERROR(SetKey(doc, defaults, key, it->second, "$" + std::string(var)));
  }
  for (const auto& kv : overrides) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--set takes KEY=VALUE (e.g. chat.model=llama3.1), got \"" +
                                     kv + "\"")
          .WithField("set");
    }
    // Field "set": the override is at fault, not the folder's configuration.
    Status s = SetKey(doc, defaults, kv.substr(0, eq), kv.substr(eq + 1), "--set");
    if (!s.ok()) return s.WithField("set");
  }
  MNEMO_RETURN_IF_ERROR(Check(doc, defaults, "", "configuration"));
  // Validate now, so that `config show` reports what `serve` would refuse.
  MNEMO_RETURN_IF_ERROR(PipelineFrom(doc["pipeline"], PipelineOptions{}, "pipeline").status());
  MNEMO_RETURN_IF_ERROR(LifecycleFrom(doc["lifecycle"], LifecycleOptions{}, "lifecycle").status());
  Options storage;
  MNEMO_RETURN_IF_ERROR(StorageFrom(doc["storage"], &storage));
  for (auto it = doc["spaces"].begin(); it != doc["spaces"].end(); ++it) {
    if (it.value().contains("pipeline")) {
      MNEMO_RETURN_IF_ERROR(PipelineFrom(it.value()["pipeline"], PipelineOptions{},
                                         "spaces." + it.key() + ".pipeline")
                                .status());
    }
    if (it.value().contains("lifecycle")) {
      MNEMO_RETURN_IF_ERROR(LifecycleFrom(it.value()["lifecycle"], LifecycleOptions{},
                                          "spaces." + it.key() + ".lifecycle")
                                .status());
    }
  }
  const std::string provider = doc["embedding"]["provider"].get<std::string>();
  if (provider != "builtin" && provider != "openai") {
    return Status::InvalidArgument("embedding.provider must be \"builtin\" or \"openai\", got \"" +
                                   provider + "\"");
  }
  return doc;
}

Result<Options> ToOptions(const Json& config, const Environment& env) {
  Options o;
  MNEMO_ASSIGN_OR_RETURN(o.pipeline, PipelineFrom(config["pipeline"], o.pipeline, "pipeline"));
  for (auto it = config["spaces"].begin(); it != config["spaces"].end(); ++it) {
    const Json& over = it.value().contains("pipeline") ? it.value()["pipeline"] : Json::object();
    MNEMO_ASSIGN_OR_RETURN(o.space_pipeline[it.key()],
                           PipelineFrom(over, o.pipeline, "spaces." + it.key() + ".pipeline"));
  }
  MNEMO_ASSIGN_OR_RETURN(o.lifecycle, LifecycleFrom(config["lifecycle"], o.lifecycle, "lifecycle"));
  for (auto it = config["spaces"].begin(); it != config["spaces"].end(); ++it) {
    if (!it.value().contains("lifecycle")) continue;
    MNEMO_ASSIGN_OR_RETURN(
        o.space_lifecycle[it.key()],
        LifecycleFrom(it.value()["lifecycle"], o.lifecycle, "spaces." + it.key() + ".lifecycle"));
  }
  MNEMO_RETURN_IF_ERROR(StorageFrom(config["storage"], &o));
  o.quarantine_instructions = config["security"]["quarantine"].get<bool>();
  const Json& emb = config["embedding"];
  o.reembed_on_embedder_change = emb["reembed"].get<bool>();
  if (emb["provider"] == "openai") {
    auto e = llm::MakeOpenAiEmbedder(ProviderFrom(emb, env));
    if (!e.ok()) return e.status().WithContext("embedding");
    o.embedder = std::move(e).value();
  }
  const Json& chat = config["chat"];
  if (!chat["base_url"].get<std::string>().empty() || !chat["model"].get<std::string>().empty()) {
    auto c = llm::MakeOpenAiChatModel(ProviderFrom(chat, env));
    if (!c.ok()) return c.status().WithContext("chat");
    o.chat_model = std::move(c).value();
  }
  return o;
}

Json Masked(const Json& config, const Environment& env) {
  Json out = config;
  for (const char* section : {"embedding", "chat"}) {
    Json& s = out[section];
    if (s.contains("base_url") && s["base_url"].is_string()) {
      s["base_url"] = util::RedactUrl(s["base_url"].get<std::string>());
    }
    const std::string var = s.value("api_key_env", "");
    if (var.empty()) continue;
    auto it = env.find(var);
    s["api_key"] = it != env.end() && !it->second.empty() ? "set (hidden)" : "not set";
  }
  return out;
}

}  // namespace mnemo::config
