#ifndef DCDIR_SERVICE_API_MAPPING_H_
#define DCDIR_SERVICE_API_MAPPING_H_

// Core values -> protobuf messages.

#include <string_view>

#include "absl/time/time.h"
#include "dcdir/v1/admin.pb.h"
#include "dcdir/v1/directory.pb.h"
#include "service/api/api_error.h"
#include "service/core/answer.h"
#include "service/core/snapshot.h"

namespace dcdir::api {

v1::HealthStatus ToProto(core::HealthStatus status);
v1::LocationSource ToProto(core::LocationSource source);
v1::RttSource ToProto(core::RttSource source);
void ToProto(absl::Time t, google::protobuf::Timestamp* out);
void ToProto(const core::TenantPolicy& policy, v1::TenantPolicy* out);
// The policy plus its unknown_regions (regions the served config does not define).
void ToProto(const core::CompiledTenant& tenant, v1::TenantPolicy* out);

// A DC of `snapshot` with its health; cross_border as given.
void FillDataCenter(const core::Snapshot& snapshot, uint32_t dc, bool cross_border,
                    v1::DataCenter* out);

// A successful answer (answer.error == kNone).
void FillDirectory(const core::Snapshot& snapshot, const core::Answer& answer, absl::Time now,
                   v1::Directory* out);

// The error for a failed answer (answer.error != kNone): its code, the reason token
// core::ReasonToken(answer.error) and a message naming `country`.
absl::Status AnswerToError(const core::Snapshot& snapshot, const core::Answer& answer,
                           std::string_view country);

// `to_wall`: what to add to a health time (the store's timeline) to show it as wall-clock time
// (DirectoryState::HealthToWall()).
void FillExplanation(const core::Snapshot& snapshot, const core::Explanation& explanation,
                     std::string_view country, absl::Time now, absl::Duration to_wall,
                     v1::DirectoryExplanation* out);

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_MAPPING_H_
