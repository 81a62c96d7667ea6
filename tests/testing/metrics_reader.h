#ifndef DCDIR_TESTS_TESTING_METRICS_READER_H_
#define DCDIR_TESTS_TESTING_METRICS_READER_H_

#include <map>
#include <optional>
#include <set>
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

// Series per dcdir_ family, as exported.
inline std::map<std::string, size_t> SeriesByFamily(const prometheus::Registry& registry) {
  std::map<std::string, size_t> out;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name.rfind("dcdir_", 0) == 0) out[family.name] = family.metric.size();
  }
  return out;
}

// Every label value of a family's series, per label name.
inline std::map<std::string, std::set<std::string>> LabelValues(
    const prometheus::Registry& registry, const std::string& name) {
  std::map<std::string, std::set<std::string>> out;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      for (const auto& l : m.label) out[l.name].insert(l.value);
    }
  }
  return out;
}

// The sum of a counter family's series (0 when absent).
inline double Sum(const prometheus::Registry& registry, const std::string& name) {
  double total = 0;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) total += m.counter.value;
  }
  return total;
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_METRICS_READER_H_
