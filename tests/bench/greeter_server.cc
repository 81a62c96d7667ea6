// The ceiling of the gRPC stack: a minimal callback-API server answering
// dcdir.v1.DirectoryService/GetDirectory with a fixed, precomputed Directory (no validation,
// no snapshot, no metrics). Same gRPC, same method path, same request bytes, so h2load and
// dcdir_load_client can drive both with identical input and the ratio is dcdir's own work.
//
//   dcdir_bench_greeter --port=0 [--host=127.0.0.1] [--response_file=F] [--stock]
//
// --response_file: a serialized dcdir.v1.Directory (e.g. written by
// `dcdir_load_client --dump_response=F` from a real dcdir-server), so the greeter sends the same
// answer bytes. Without it, a small built-in Directory is used. Prints "listening on PORT".
// --stock: the greeter as a user would write it from gRPC's callback example: the default
// message allocator and Abseil's default mutex mode. Without it, the greeter carries the two
// settings dcdir-server makes (the per-call arena, service/api/arena_allocator.h, and no debug
// deadlock graph), so the ratio to it is dcdir's own work only.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "service/api/arena_allocator.h"

namespace dcdir {
namespace {

class GreeterService final : public v1::DirectoryService::CallbackService {
 public:
  GreeterService(v1::Directory answer, bool stock) : answer_(std::move(answer)) {
    if (!stock) SetMessageAllocatorFor_GetDirectory(&allocator_);
  }

  grpc::ServerUnaryReactor* GetDirectory(grpc::CallbackServerContext* context,
                                         const v1::GetDirectoryRequest* /*request*/,
                                         v1::Directory* response) override {
    *response = answer_;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const v1::Directory answer_;
  api::ArenaMessageAllocator<v1::GetDirectoryRequest, v1::Directory> allocator_;
};

v1::Directory BuiltInAnswer() {
  v1::Directory d;
  d.set_client_region("us");
  for (const char* id : {"us-sjc", "us-den", "us-nyc"}) {
    auto* dc = d.add_primaries();
    dc->set_id(id);
  }
  for (const char* id : {"ca-yyz", "ca-yvr"}) {
    auto* dc = d.add_secondaries();
    dc->set_id(id);
  }
  d.set_secondary_attempts(2);
  d.set_snapshot_version(1);
  d.mutable_ttl()->set_seconds(30);
  d.set_config_version("bench");
  return d;
}

int Run(int argc, char** argv) {
  int port = 0;
  std::string host = "127.0.0.1";
  std::string response_file;
  bool stock = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (absl::StartsWith(a, "--port=") && absl::SimpleAtoi(a.substr(7), &port)) continue;
    if (absl::StartsWith(a, "--host=")) { host = a.substr(7); continue; }
    if (absl::StartsWith(a, "--response_file=")) { response_file = a.substr(16); continue; }
    if (a == "--stock") { stock = true; continue; }
    std::fprintf(stderr, "usage: %s --port=0 [--host=127.0.0.1] [--response_file=F] [--stock]\n",
                 argv[0]);
    return 2;
  }
  v1::Directory answer = BuiltInAnswer();
  if (!response_file.empty()) {
    std::ifstream in(response_file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "cannot read %s\n", response_file.c_str());
      return 1;
    }
    if (!answer.ParseFromString(bytes)) {
      std::fprintf(stderr, "%s is not a serialized dcdir.v1.Directory\n", response_file.c_str());
      return 1;
    }
  }

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // As dcdir-server does (service/main.cc): no debug-mode deadlock graph on gRPC's mutexes.
  if (!stock) absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  GreeterService service(std::move(answer), stock);
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(absl::StrCat(host, ":", port), grpc::InsecureServerCredentials(),
                           &selected_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    std::fprintf(stderr, "cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  std::printf("listening on %d\n", selected_port);
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop, &signal);
  server->Shutdown();
  return 0;
}

}  // namespace
}  // namespace dcdir

int main(int argc, char** argv) { return dcdir::Run(argc, argv); }
