#include "server/config.h"

#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "util/json_codec.h"

namespace mnemo::server {
namespace {

using util::Json;

// Reads an integer in [lo, hi] into `out`.
template <typename T>
Status ReadInt(const Json& v, const std::string& name, int64_t lo, int64_t hi, T* out) {
  if (!v.is_number_integer())
    return Status::InvalidArgument("expected an integer for \"" + name + "\"");
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi) {
    return Status::InvalidArgument("\"" + name + "\" must be in " + std::to_string(lo) + ".." +
                                   std::to_string(hi) + ", got " + std::to_string(n));
  }
  *out = static_cast<T>(n);
  return Status::Ok();
}

Status ReadNumber(const Json& v, const std::string& name, double* out) {
  if (!v.is_number() || v.get<double>() < 0) {
    return Status::InvalidArgument("expected a non-negative number for \"" + name + "\"");
  }
  *out = v.get<double>();
  return Status::Ok();
}

Status ParseLimits(const Json& j, Limits* l) {
  if (!j.is_object()) return Status::InvalidArgument("expected an object for \"limits\"");
  constexpr int64_t kBig = std::numeric_limits<int32_t>::max();
  using Reader = std::function<Status(const Json&, const std::string&)>;
  const std::map<std::string, Reader> readers = {
      {"max_body_bytes",
       [&](auto& v, auto& n) { return ReadInt(v, n, 1024, int64_t{1} << 30, &l->max_body_bytes); }},
      {"max_header_bytes",
       [&](auto& v, auto& n) { return ReadInt(v, n, 1024, 1 << 20, &l->max_header_bytes); }},
      {"max_batch", [&](auto& v, auto& n) { return ReadInt(v, n, 1, 10000, &l->max_batch); }},
      {"max_k", [&](auto& v, auto& n) { return ReadInt(v, n, 1, 1000, &l->max_k); }},
      {"max_list_limit",
       [&](auto& v, auto& n) { return ReadInt(v, n, 1, 1000, &l->max_list_limit); }},
      {"max_text_bytes",
       [&](auto& v, auto& n) { return ReadInt(v, n, 1, 64 * 1024, &l->max_text_bytes); }},
      {"request_timeout_ms",
       [&](auto& v, auto& n) { return ReadInt(v, n, 1, kBig, &l->request_timeout_ms); }},
      {"idle_timeout_ms",
       [&](auto& v, auto& n) { return ReadInt(v, n, 1, kBig, &l->idle_timeout_ms); }},
      {"rate_limit_per_key",
       [&](auto& v, auto& n) { return ReadNumber(v, n, &l->rate_limit_per_key); }},
      {"rate_burst_per_key",
       [&](auto& v, auto& n) { return ReadNumber(v, n, &l->rate_burst_per_key); }},
      {"max_connections",
       [&](auto& v, auto& n) { return ReadInt(v, n, 1, 1 << 20, &l->max_connections); }},
      {"max_queue", [&](auto& v, auto& n) { return ReadInt(v, n, 1, 1 << 20, &l->max_queue); }},
      {"workers", [&](auto& v, auto& n) { return ReadInt(v, n, 0, 256, &l->workers); }},
  };
  for (const auto& [key, value] : j.items()) {
    auto it = readers.find(key);
    if (it == readers.end()) return Status::InvalidArgument("unknown limit \"" + key + "\"");
    MNEMO_RETURN_IF_ERROR(it->second(value, key));
  }
  return Status::Ok();
}

}  // namespace

Result<ServerConfig> ParseServerConfig(std::string_view json_text) {
  MNEMO_ASSIGN_OR_RETURN(Json j, util::ParseJson(json_text));
  if (!j.is_object()) return Status::InvalidArgument("the server config must be a JSON object");
  ServerConfig c;
  for (const auto& [key, v] : j.items()) {
    if (key == "host") {
      if (!v.is_string() || v.get<std::string>().empty()) {
        return Status::InvalidArgument("expected a non-empty string for \"host\"");
      }
      c.host = v.get<std::string>();
    } else if (key == "port") {
      MNEMO_RETURN_IF_ERROR(ReadInt(v, key, 0, 65535, &c.port));
    } else if (key == "default_space") {
      if (!v.is_string()) return Status::InvalidArgument("expected a string for \"default_space\"");
      c.default_space = v.get<std::string>();
    } else if (key == "access_log") {
      if (!v.is_boolean())
        return Status::InvalidArgument("expected true or false for \"access_log\"");
      c.access_log = v.get<bool>();
    } else if (key == "limits") {
      MNEMO_RETURN_IF_ERROR(ParseLimits(v, &c.limits));
    } else if (key == "allowed_hosts" || key == "allowed_origins") {
      auto& out = key == "allowed_hosts" ? c.allowed_hosts : c.allowed_origins;
      if (!v.is_array()) {
        return Status::InvalidArgument("expected an array of strings for \"" + key + "\"");
      }
      for (const auto& item : v) {
        if (!item.is_string() || item.get<std::string>().empty()) {
          return Status::InvalidArgument("expected non-empty strings in \"" + key + "\"");
        }
        out.push_back(item.get<std::string>());
      }
    } else {
      return Status::InvalidArgument("unknown key \"" + key + "\"");
    }
  }
  return c;
}

Result<ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseServerConfig(ss.str());
  if (!c.ok()) return c.status().WithContext(path);
  return c;
}

}  // namespace mnemo::server
