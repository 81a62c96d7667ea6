#include "service/api/connection_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/util/listen_socket.h"
#include "service/util/log.h"

namespace dcdir::api {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kSweepEveryNanos = 250'000'000;
constexpr int kPollMillis = 250;
constexpr int64_t kShortageLogEveryNanos = 10'000'000'000;

// The peer's address without the port ("10.0.0.7", "2001:db8::1"); IPv4-mapped IPv6 addresses
// as IPv4, so a dual-stack socket counts one client once.
std::string PeerAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, sizeof(buf));
    } else {
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    }
  }
  return buf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConnectionListener>> ConnectionListener::Bind(
    ListenerOptions options) {
  absl::StatusOr<util::ListenSocket> socket =
      util::OpenListenSocket(options.host, options.port, options.backlog);
  if (!socket.ok()) return socket.status();
  return std::unique_ptr<ConnectionListener>(
      new ConnectionListener(std::move(options), socket->fd, socket->port));
}

ConnectionListener::ConnectionListener(ListenerOptions options, int fd, int port)
    : options_(std::move(options)), listen_fd_(fd), port_(port) {
  if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

ConnectionListener::~ConnectionListener() {
  Stop();
  for (int fd : {stop_pipe_[0], stop_pipe_[1], reserve_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void ConnectionListener::Start(grpc::experimental::ExternalConnectionAcceptor* acceptor) {
  if (thread_.joinable() || stopped_) return;
  acceptor_ = acceptor;
  heartbeat_.store(SteadyNanos(), std::memory_order_release);
  thread_ = std::thread([this] { Run(); });
}

void ConnectionListener::Stop() {
  if (stopped_.exchange(true)) return;
  if (stop_pipe_[1] >= 0) (void)!::write(stop_pipe_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

ConnectionListener::Stats ConnectionListener::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.open = open_.size();
  return s;
}

void ConnectionListener::Run() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  while (!stopped_.load(std::memory_order_acquire)) {
    heartbeat_.store(SteadyNanos(), std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (SteadyNanos() - last_sweep_ >= kSweepEveryNanos) SweepLocked();
    }
    const int ready = ::poll(fds, stop_pipe_[0] >= 0 ? 2 : 1, kPollMillis);
    if (ready <= 0 || !(fds[0].revents & POLLIN)) continue;
    // Drain the queue: one wake-up may stand for many connections.
    for (int n = 0; n < 1024 && !stopped_.load(std::memory_order_acquire); ++n) {
      sockaddr_storage peer{};
      socklen_t len = sizeof(peer);
      const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        HandleAccepted(fd);
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EMFILE || errno == ENFILE) {
        RefuseOnDescriptorShortage();
        continue;
      }
      // ENOBUFS, ENOMEM, a protocol error: pause, then keep accepting.
      DCDIR_LOG(kWarning) << "gRPC listener: accept failed (" << std::strerror(errno)
                          << "); still listening";
      ::poll(nullptr, 0, 10);
      break;
    }
  }
}

void ConnectionListener::HandleAccepted(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len);
  std::string address = PeerAddress(peer);
  struct stat st{};
  const bool known = ::fstat(fd, &st) == 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto from_peer = [&] {
      auto it = per_peer_.find(address);
      return it == per_peer_.end() ? size_t{0} : it->second;
    };
    const bool at_cap = options_.max_connections > 0 && open_.size() >= options_.max_connections;
    const bool peer_at_cap = options_.max_connections_per_peer > 0 &&
                             from_peer() >= options_.max_connections_per_peer;
    if (at_cap || peer_at_cap) SweepLocked();  // some may have closed since the last sweep
    if (options_.max_connections > 0 && open_.size() >= options_.max_connections) {
      ++stats_.refused_limit;
      ::close(fd);
      return;
    }
    if (options_.max_connections_per_peer > 0 &&
        from_peer() >= options_.max_connections_per_peer) {
      ++stats_.refused_peer_limit;
      ::close(fd);
      return;
    }
    if (known) {
      open_.push_back({fd, static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                       address});
      ++per_peer_[address];
    }
    ++stats_.accepted;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters params;
  params.listener_fd = listen_fd_;
  params.fd = fd;
  acceptor_->HandleNewConnection(&params);
}

void ConnectionListener::RefuseOnDescriptorShortage() {
  // Free the spare descriptor, take the pending connection off the queue and close it (the
  // client sees the close, instead of the queue filling up for ever), take the spare back.
  bool log = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.refused_descriptors;
    const int64_t now = SteadyNanos();
    if (now - last_shortage_log_ >= kShortageLogEveryNanos) {
      last_shortage_log_ = now;
      log = true;
    }
    SweepLocked();
  }
  if (log) {
    DCDIR_LOG(kWarning) << "gRPC listener: out of file descriptors (" << std::strerror(errno)
                        << "); refusing new connections until some close (still listening; "
                           "logged at most every 10 s, counted in "
                           "dcdir_grpc_connections_refused_total{reason=\"descriptors\"})";
  }
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
  }
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) ::close(fd);
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0 && reserve_fd_ < 0) ::poll(nullptr, 0, 10);  // nothing to give back: do not spin
}

void ConnectionListener::SweepLocked() {
  last_sweep_ = SteadyNanos();
  size_t kept = 0;
  for (size_t i = 0; i < open_.size(); ++i) {
    const Connection& c = open_[i];
    struct stat st{};
    if (::fstat(c.fd, &st) == 0 && static_cast<uint64_t>(st.st_dev) == c.dev &&
        static_cast<uint64_t>(st.st_ino) == c.ino) {
      if (kept != i) open_[kept] = std::move(open_[i]);
      ++kept;
      continue;
    }
    auto it = per_peer_.find(c.peer);
    if (it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
  }
  open_.resize(kept);
}

}  // namespace dcdir::api
