#ifndef DCDIR_CLIENTS_CPP_CONVERT_H_
#define DCDIR_CLIENTS_CPP_CONVERT_H_

// The dcdir.v1 messages <-> the public value types (dcdir/client/types.h), field for field.
// Only the library's own sources see the generated code; not installed.

#include "dcdir/client/types.h"
#include "dcdir/v1/directory.pb.h"
#include "dcdir/v1/reporting.pb.h"
#include "dcdir/v1/types.pb.h"

namespace dcdir::client {

v1::GetDirectoryRequest ToProto(const DirectoryRequest& request);
// A status number this library does not know becomes HealthStatus::kUnknown.
DataCenter FromProto(const v1::DataCenter& dc);
// ttl and generated_at become absl::Duration / absl::Time (an absent generated_at: the epoch).
Directory FromProto(const v1::Directory& directory);
ReportFallbackResult FromProto(const v1::ReportFallbackResponse& response);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_CONVERT_H_
