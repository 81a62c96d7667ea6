#ifndef DCDIR_TESTS_TESTING_HEALTH_REPORT_H_
#define DCDIR_TESTS_TESTING_HEALTH_REPORT_H_

// The one ReportHealth request of the tests (in-process, spawned, replica and TLS servers alike).

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "dcdir/v1/reporting.pb.h"

namespace dcdir::testing {

// A HealthReport for `dc` at `status` and `congestion` ([0, 1]). `ttl` zero sends no TTL (the
// server's default, `thresholds.default_health_ttl`); otherwise it is sent as a
// google.protobuf.Duration (seconds and nanos of the same sign).
inline v1::HealthReport HealthReportOf(const std::string& dc, v1::HealthStatus status,
                                       double congestion = 0.1,
                                       absl::Duration ttl = absl::ZeroDuration()) {
  v1::HealthReport report;
  report.set_datacenter_id(dc);
  report.set_status(status);
  report.set_congestion(congestion);
  if (ttl != absl::ZeroDuration()) {
    const int64_t nanos = absl::ToInt64Nanoseconds(ttl);
    report.mutable_ttl()->set_seconds(nanos / 1'000'000'000);
    report.mutable_ttl()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  }
  return report;
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_HEALTH_REPORT_H_
