#ifndef DCDIR_TESTS_TESTING_METRICS_READER_H_
#define DCDIR_TESTS_TESTING_METRICS_READER_H_

#include <map>
#include <optional>
#include <string>

#include "prometheus/registry.h"

namespace dcdir::testing {

// The value of one counter or gauge series (labels must match exactly, in any order), or
// nullopt when the series does not exist.
inline std::optional<double> MetricValue(const prometheus::Registry& registry,
                                         const std::string& name,
                                         const std::map<std::string, std::string>& labels = {}) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      std::map<std::string, std::string> got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got != labels) continue;
      if (family.type == prometheus::MetricType::Counter) return m.counter.value;
      if (family.type == prometheus::MetricType::Gauge) return m.gauge.value;
      if (family.type == prometheus::MetricType::Histogram) {
        return static_cast<double>(m.histogram.sample_count);
      }
    }
  }
  return std::nullopt;
}

// Number of series of a family (0 when absent).
inline size_t SeriesCount(const prometheus::Registry& registry, const std::string& name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name == name) return family.metric.size();
  }
  return 0;
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_METRICS_READER_H_
