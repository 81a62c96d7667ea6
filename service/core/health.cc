#include "service/core/health.h"

#include <optional>

namespace dcdir::core {

bool NextCongested(bool was_congested, double congestion, const Thresholds& t) {
  // NaN compares false everywhere: it never enters and always leaves (the API layer rejects it
  // before it gets here).
  if (was_congested) return congestion >= t.congestion_exit;
  return congestion >= t.congestion_enter;
}

HealthRecord AcceptReport(const std::optional<HealthRecord>& previous, HealthStatus status,
                          double congestion, absl::Duration ttl, absl::Time now,
                          const Thresholds& t) {
  // A zero (or negative) TTL means the default; a TTL above the maximum is capped there.
  if (ttl <= absl::ZeroDuration()) ttl = t.default_health_ttl;
  if (ttl > t.max_health_ttl) ttl = t.max_health_ttl;
  // Hysteresis state survives only while the previous record is still alive at `now`, and is
  // the previous record's state as judged under today's thresholds (what snapshots show), so
  // a threshold change by reload does not make the next report flip back.
  const bool was_congested =
      previous.has_value() && now < previous->expires_at &&
      NextCongested(previous->congested, previous->congestion, t);
  HealthRecord r;
  r.status = status;
  r.congestion = congestion;
  r.congested = NextCongested(was_congested, congestion, t);
  r.reported_at = now;
  r.expires_at = now + ttl;
  return r;
}

HealthStatus EffectiveStatus(const HealthRecord& r, absl::Time now) {
  // A record is alive in [reported_at, expires_at): at expires_at it is expired.
  if (now >= r.expires_at) return HealthStatus::kUnknown;
  return r.status;
}

bool IsUsable(const HealthRecord& r, absl::Time now) {
  return EffectiveStatus(r, now) == HealthStatus::kHealthy;
}

}  // namespace dcdir::core
