#include "server/metrics.h"

#include <cstdio>

namespace mnemo::server {
namespace {

// Escapes a label value: backslash, double quote and newline.
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void Metrics::Record(const std::string& route, const std::string& method, int status,
                     int64_t duration_us) {
  const double seconds = static_cast<double>(duration_us) / 1e6;
  const std::string& r = route.empty() ? std::string("unmatched") : route;
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{r, method.empty() ? std::string("-") : method, status}];
  Histogram& h = latency_[r];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render(const std::vector<Gauge>& gauges) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out +=
        "# HELP mnemo_http_requests_total HTTP requests answered, by route, method and status.\n";
    out += "# TYPE mnemo_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      const auto& [route, method, status] = key;
      out += "mnemo_http_requests_total{route=\"" + Escape(route) + "\",method=\"" +
             Escape(method) + "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) +
             "\n";
    }
    out +=
        "# HELP mnemo_http_request_duration_seconds Time from a request's first byte to its "
        "response, by route.\n";
    out += "# TYPE mnemo_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
      const std::string label = "route=\"" + Escape(route) + "\"";
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        out += "mnemo_http_request_duration_seconds_bucket{" + label + ",le=\"" +
               Number(kBuckets[i]) + "\"} " + std::to_string(h.buckets[i]) + "\n";
      }
      out += "mnemo_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
             std::to_string(h.count) + "\n";
      out += "mnemo_http_request_duration_seconds_sum{" + label + "} " + Number(h.sum) + "\n";
      out += "mnemo_http_request_duration_seconds_count{" + label + "} " + std::to_string(h.count) +
             "\n";
    }
  }
  for (const Gauge& g : gauges) {
    out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n";
    for (const auto& [label_value, v] : g.samples) {
      out += g.name;
      if (!g.label.empty()) out += "{" + g.label + "=\"" + Escape(label_value) + "\"}";
      out += " " + Number(v) + "\n";
    }
  }
  return out;
}

}  // namespace mnemo::server
