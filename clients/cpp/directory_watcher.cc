#include "clients/cpp/directory_watcher.h"

#include <iostream>
#include <utility>

#include "clients/cpp/errors.h"

namespace dcdir::client {

DirectoryWatcher::DirectoryWatcher(DirectoryClient* client, v1::GetDirectoryRequest request,
                                   Callback callback)
    : client_(client), request_(std::move(request)), callback_(std::move(callback)) {}

DirectoryWatcher::~DirectoryWatcher() { Stop(); }

void DirectoryWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

std::optional<Resolution> DirectoryWatcher::Latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

int DirectoryWatcher::updates() const {
  absl::MutexLock lock(&mu_);
  return updates_;
}

void DirectoryWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool DirectoryWatcher::WaitFor(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopped_), d);
  return !stopped_;
}

void DirectoryWatcher::Run() {
  const ClientOptions& options = client_->options();
  const size_t n = options.addresses.size();
  size_t next_address = 0;
  int failures = 0;
  while (true) {
    const std::string& address = options.addresses[next_address % n];
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      context_ = &context;
    }
    std::unique_ptr<DirectoryStream> stream =
        client_->StubFor(address)->WatchDirectory(context, request_);
    v1::Directory directory;
    while (stream->Read(&directory)) {
      failures = 0;
      const absl::Time fetched_at = options.clock->Now();
      client_->SaveToCache(request_, directory, fetched_at);
      absl::StatusOr<Resolution> resolution =
          client_->MakeResolution(directory, Source::kServer, address, fetched_at, 0);
      {
        absl::MutexLock lock(&mu_);
        if (stopped_) break;
        if (resolution.ok()) {
          latest_ = *resolution;
          ++updates_;
        }
      }
      if (callback_) callback_(resolution);
    }
    absl::Status status = stream->Finish();
    {
      absl::MutexLock lock(&mu_);
      context_ = nullptr;
      if (stopped_) return;
    }
    if (status.ok()) status = absl::UnavailableError("the directory server ended the watch");
    if (callback_) callback_(status);
    if (IsTransportFailure(status)) ++next_address;
    if (!WaitFor(client_->NextBackoff(failures++))) return;
  }
}

}  // namespace dcdir::client
