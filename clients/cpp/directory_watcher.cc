#include "dcdir/client/directory_watcher.h"

#include <iostream>
#include <mutex>
#include <utility>

#include "clients/cpp/convert.h"
#include "clients/cpp/directory_cache.h"
#include "clients/cpp/directory_stub.h"
#include "clients/cpp/errors.h"
#include "grpcpp/client_context.h"

namespace dcdir::client {

DirectoryWatcher::DirectoryWatcher(DirectoryClient* client, DirectoryRequest request,
                                   Callback callback)
    : client_(client), request_(std::move(request)), callback_(std::move(callback)) {}

DirectoryWatcher::~DirectoryWatcher() { Stop(); }

void DirectoryWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

std::optional<Resolution> DirectoryWatcher::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

int DirectoryWatcher::updates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return updates_;
}

void DirectoryWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    if (cancel_) cancel_();
  }
  stopped_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool DirectoryWatcher::WaitFor(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  stopped_cv_.wait_for(lock, absl::ToChronoNanoseconds(d), [this] { return stopped_; });
  return !stopped_;
}

void DirectoryWatcher::Run() {
  const ClientOptions& options = client_->options();
  const v1::GetDirectoryRequest request = ToProto(request_);
  const size_t n = options.addresses.size();
  size_t next_address = 0;
  int failures = 0;
  while (true) {
    const std::string& address = options.addresses[next_address % n];
    grpc::ClientContext context;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      cancel_ = [&context] { context.TryCancel(); };
    }
    std::unique_ptr<DirectoryStream> stream =
        client_->StubFor(address)->WatchDirectory(context, request);
    v1::Directory directory;
    while (stream->Read(&directory)) {
      failures = 0;
      const absl::Time fetched_at = options.clock->Now();
      SaveToCache(client_->cache_.get(), request, directory, fetched_at);
      absl::StatusOr<Resolution> resolution =
          client_->MakeResolution(FromProto(directory), Source::kServer, address, fetched_at, 0);
      {
        std::lock_guard<std::mutex> lock(mu_);
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
      std::lock_guard<std::mutex> lock(mu_);
      cancel_ = nullptr;
      if (stopped_) return;
    }
    if (status.ok()) status = absl::UnavailableError("the directory server ended the watch");
    if (callback_) callback_(status);
    if (IsTransportFailure(status)) ++next_address;
    if (!WaitFor(client_->NextBackoff(failures++))) return;
  }
}

}  // namespace dcdir::client
