#ifndef DCDIR_SERVICE_AUDIT_AUDIT_SINK_H_
#define DCDIR_SERVICE_AUDIT_AUDIT_SINK_H_

// The port through which the request path reports cross-border fallback decisions to the
// audit trail. Implementations must never block the caller (see AuditLog).

#include <string_view>

#include "service/core/answer.h"
#include "service/core/snapshot.h"

namespace dcdir::audit {

class AuditSink {
 public:
  virtual ~AuditSink() = default;

  // An answer computed on `snapshot` for a client of `client_country` (upper-case alpha-2)
  // and `tenant_id` (may be empty) is being sent. Only answers with fallback_active and at
  // least one cross-border DC among the secondaries clients try are recorded; others are
  // ignored cheaply. Thread-safe, non-blocking.
  virtual void RecordAnswer(const core::Snapshot& snapshot, const core::Answer& answer,
                            std::string_view client_country, std::string_view tenant_id) = 0;
};

}  // namespace dcdir::audit

#endif  // DCDIR_SERVICE_AUDIT_AUDIT_SINK_H_
