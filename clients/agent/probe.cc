#include "clients/agent/probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace dcdir::agent {
namespace {

absl::Status SplitHostPort(const std::string& endpoint, std::string* host, std::string* port) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint \"", endpoint, "\" is not host:port"));
  }
  *host = endpoint.substr(0, colon);
  *port = endpoint.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

// One non-blocking connect bounded by `timeout`.
absl::Status ConnectOnce(const addrinfo& ai, absl::Duration timeout) {
  int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return absl::UnavailableError(std::strerror(errno));
  absl::Status status;
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      status = absl::UnavailableError(std::strerror(errno));
    } else {
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
      if (n == 0) {
        status = absl::DeadlineExceededError("connect timed out");
      } else if (n < 0) {
        status = absl::UnavailableError(std::strerror(errno));
      } else {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) status = absl::UnavailableError(std::strerror(err));
      }
    }
  }
  ::close(fd);
  return status;
}

}  // namespace

absl::Status TcpProbe(const std::string& endpoint, absl::Duration timeout) {
  std::string host, port;
  if (absl::Status s = SplitHostPort(endpoint, &host, &port); !s.ok()) return s;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &result); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", endpoint, ": ", ::gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError("no address");
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    last = ConnectOnce(*ai, timeout);
    if (last.ok()) break;
  }
  ::freeaddrinfo(result);
  if (!last.ok()) {
    return absl::Status(last.code(), absl::StrCat("tcp ", endpoint, ": ", last.message()));
  }
  return absl::OkStatus();
}

absl::Status GrpcHealthProbe(const std::string& endpoint, absl::Duration timeout) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // HealthCheckRequest{service: ""} serializes to zero bytes.
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("grpc health ", endpoint, ": ", status.error_message()));
  }
  std::vector<grpc::Slice> slices;
  (void)response.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  // HealthCheckResponse{status = 1: enum}; SERVING is 1.
  int serving_status = 0;
  if (bytes.size() >= 2 && bytes[0] == 0x08) serving_status = static_cast<unsigned char>(bytes[1]);
  if (serving_status != 1) {
    return absl::UnavailableError(
        absl::StrCat("grpc health ", endpoint, ": not SERVING (status ", serving_status, ")"));
  }
  return absl::OkStatus();
}

}  // namespace dcdir::agent
