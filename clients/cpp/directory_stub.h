#ifndef DCDIR_CLIENTS_CPP_DIRECTORY_STUB_H_
#define DCDIR_CLIENTS_CPP_DIRECTORY_STUB_H_

// A small abstract stub over the generated DirectoryService / ReportingService stubs: what the
// library calls, so tests can put a fake in its place (google-cloud-cpp style). Internal to the
// library (it speaks the dcdir.v1 messages); not installed. StubFactory is declared in
// dcdir/client/directory_client.h.

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dcdir/client/directory_client.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"

namespace dcdir::client {

// One WatchDirectory stream.
class DirectoryStream {
 public:
  virtual ~DirectoryStream() = default;
  // Blocks for the next answer; false when the stream ended (then call Finish).
  virtual bool Read(v1::Directory* directory) = 0;
  // The final status, with the server's reason token (see ErrorReason).
  virtual absl::Status Finish() = 0;
};

class DirectoryStub {
 public:
  virtual ~DirectoryStub() = default;
  virtual absl::StatusOr<v1::Directory> GetDirectory(grpc::ClientContext& context,
                                                     const v1::GetDirectoryRequest& request) = 0;
  // Starts a stream; cancel it with context.TryCancel().
  virtual std::unique_ptr<DirectoryStream> WatchDirectory(
      grpc::ClientContext& context, const v1::GetDirectoryRequest& request) = 0;
  virtual absl::StatusOr<v1::ReportFallbackResponse> ReportFallback(
      grpc::ClientContext& context, const v1::FallbackReport& request) = 0;
};

// The real stub over a channel.
std::shared_ptr<DirectoryStub> MakeDirectoryStub(std::shared_ptr<grpc::Channel> channel);

// A StubFactory opening one channel per address with `credentials` (insecure when null).
StubFactory DefaultStubFactory(std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_DIRECTORY_STUB_H_
