// dcdir::metrics::Metrics without a server: what exists before any config is loaded.

#include "service/metrics/metrics.h"

#include "gtest/gtest.h"
#include "tests/testing/metrics_reader.h"

namespace dcdir::metrics {
namespace {

TEST(MetricsTest, BuildInfoIsOneSeriesWithTheProjectVersion) {
  Metrics metrics;

  EXPECT_EQ(testing::SeriesCount(*metrics.registry(), "dcdir_build_info"), 1u);
  EXPECT_EQ(testing::MetricValue(*metrics.registry(), "dcdir_build_info",
                                 {{"version", DCDIR_PROJECT_VERSION}}),
            1.0);
}

}  // namespace
}  // namespace dcdir::metrics
