#include "clients/cpp/source_address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel_posix.h"

namespace dcdir::client {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelFromAddress(const std::string& target,
                                                                  const std::string& local_address,
                                                                  absl::Duration timeout) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("server \"", target, "\" is not host:port"));
  }
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = target.substr(colon + 1);
  sockaddr_storage local{};
  socklen_t local_len = 0;
  if (inet_pton(AF_INET, local_address.c_str(), &reinterpret_cast<sockaddr_in*>(&local)->sin_addr) == 1) {
    local.ss_family = AF_INET;
    local_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, local_address.c_str(),
                       &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr) == 1) {
    local.ss_family = AF_INET6;
    local_len = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--from \"", local_address, "\" is not an IPv4 or IPv6 address"));
  }
  addrinfo hints{};
  hints.ai_family = local.ss_family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", target, " for ",
                                               local_address, ": ", gai_strerror(rc)));
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    freeaddrinfo(found);
    return Errno("socket");
  }
  auto fail = [&](const std::string& what) {
    absl::Status s = Errno(what);
    ::close(fd);
    return s;
  };
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), local_len) != 0) {
    freeaddrinfo(found);
    return fail(absl::StrCat("cannot bind to ", local_address));
  }
  const int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (rc != 0 && errno != EINPROGRESS) return fail(absl::StrCat("cannot connect to ", target));
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    int err = 0;
    socklen_t len = sizeof(err);
    if (ready <= 0) {
      errno = ready == 0 ? ETIMEDOUT : errno;
      return fail(absl::StrCat("cannot connect to ", target));
    }
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      errno = err;
      return fail(absl::StrCat("cannot connect to ", target));
    }
  }
  // gRPC takes the descriptor over (and sets its own flags).
  return grpc::CreateInsecureChannelFromFd(target, fd);
}

}  // namespace dcdir::client
