#include "clients/cpp/directory_stub.h"

#include <utility>

#include "clients/cpp/errors.h"
#include "grpcpp/create_channel.h"

namespace dcdir::client {
namespace {

class GrpcDirectoryStream final : public DirectoryStream {
 public:
  GrpcDirectoryStream(grpc::ClientContext* context,
                      std::unique_ptr<grpc::ClientReader<v1::Directory>> reader)
      : context_(context), reader_(std::move(reader)) {}
  bool Read(v1::Directory* directory) override { return reader_->Read(directory); }
  absl::Status Finish() override { return FromGrpcStatus(reader_->Finish(), *context_); }

 private:
  grpc::ClientContext* context_;
  std::unique_ptr<grpc::ClientReader<v1::Directory>> reader_;
};

class GrpcDirectoryStub final : public DirectoryStub {
 public:
  explicit GrpcDirectoryStub(std::shared_ptr<grpc::Channel> channel)
      : directory_(v1::DirectoryService::NewStub(channel)),
        reporting_(v1::ReportingService::NewStub(channel)) {}

  absl::StatusOr<v1::Directory> GetDirectory(grpc::ClientContext& context,
                                             const v1::GetDirectoryRequest& request) override {
    v1::Directory response;
    grpc::Status status = directory_->GetDirectory(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status, context);
    return response;
  }

  std::unique_ptr<DirectoryStream> WatchDirectory(
      grpc::ClientContext& context, const v1::GetDirectoryRequest& request) override {
    return std::make_unique<GrpcDirectoryStream>(&context,
                                                 directory_->WatchDirectory(&context, request));
  }

  absl::StatusOr<v1::ReportFallbackResponse> ReportFallback(
      grpc::ClientContext& context, const v1::FallbackReport& request) override {
    v1::ReportFallbackResponse response;
    grpc::Status status = reporting_->ReportFallback(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status, context);
    return response;
  }

 private:
  std::unique_ptr<v1::DirectoryService::Stub> directory_;
  std::unique_ptr<v1::ReportingService::Stub> reporting_;
};

}  // namespace

std::shared_ptr<DirectoryStub> MakeDirectoryStub(std::shared_ptr<grpc::Channel> channel) {
  return std::make_shared<GrpcDirectoryStub>(std::move(channel));
}

StubFactory DefaultStubFactory(std::shared_ptr<grpc::ChannelCredentials> credentials) {
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  return [credentials](const std::string& address) {
    return MakeDirectoryStub(grpc::CreateChannel(address, credentials));
  };
}

}  // namespace dcdir::client
