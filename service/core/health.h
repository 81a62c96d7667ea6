#ifndef DCDIR_SERVICE_CORE_HEALTH_H_
#define DCDIR_SERVICE_CORE_HEALTH_H_

// Health rules: TTL expiry and congestion hysteresis.

#include <optional>

#include "absl/time/time.h"
#include "service/core/model.h"

namespace dcdir::core {

// Congestion hysteresis: a DC that was congested stays congested while congestion >=
// t.congestion_exit; one that was not becomes congested at congestion >= t.congestion_enter.
bool NextCongested(bool was_congested, double congestion, const Thresholds& t);

// The record to store for a new report, given the previous record (if any, expired or not:
// hysteresis state survives expiry only while the previous record is unexpired at `now`, and
// is the previous record re-judged under `t`: NextCongested(previous.congested,
// previous.congestion, t), as snapshots show it).
// `ttl` of zero (or negative) means t.default_health_ttl; a ttl above t.max_health_ttl is capped
// there. reported_at = now, expires_at = now + ttl; a record is alive while now < expires_at.
HealthRecord AcceptReport(const std::optional<HealthRecord>& previous, HealthStatus status,
                          double congestion, absl::Duration ttl, absl::Time now,
                          const Thresholds& t);

// The status the directory acts on: kUnknown when the record expired at `now`.
HealthStatus EffectiveStatus(const HealthRecord& r, absl::Time now);

// True when the DC may be offered: HEALTHY and not expired at `now`.
bool IsUsable(const HealthRecord& r, absl::Time now);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_HEALTH_H_
