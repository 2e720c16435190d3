// Metrics: request counters and latency histograms by route, method and status, plus
// gauges read at scrape time, rendered in the Prometheus text exposition format 0.0.4.
// Labels are route templates ("/v1/spaces/{space}/memories"), never raw paths, so the
// number of series stays bounded.
//
// Thread safety: Record and Render may be called concurrently from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace mnemo::server {

class Metrics {
 public:
  // Histogram bucket upper bounds, in seconds.
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void Record(const std::string& route, const std::string& method, int status, int64_t duration_us);

  // A gauge sample: metric name, help, and (label value, value) pairs.
  struct Gauge {
    std::string name;
    std::string help;
    std::string label;  // label name ("" for an unlabelled gauge)
    std::vector<std::pair<std::string, double>> samples;
  };
  std::string Render(const std::vector<Gauge>& gauges) const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;  // by route
};

}  // namespace mnemo::server
