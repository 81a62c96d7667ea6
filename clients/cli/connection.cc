#include "clients/cli/connection.h"

#include <filesystem>
#include <optional>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/tls.h"
#include "grpcpp/create_channel.h"

namespace dcdir::cli {
namespace {

// The PORT of a HOST:PORT or [V6]:PORT target; nullopt for other gRPC target forms
// (dns:///..., unix:..., a host without a port).
std::optional<std::string> PortOf(const std::string& target) {
  if (target.find("://") != std::string::npos || target.rfind("unix:", 0) == 0) {
    return std::nullopt;
  }
  if (target[0] == '[') {
    const size_t close = target.find(']');
    if (close == std::string::npos || close + 1 >= target.size() || target[close + 1] != ':') {
      return std::nullopt;
    }
    return target.substr(close + 2);
  }
  const size_t colon = target.find(':');
  if (colon == std::string::npos || target.find(':', colon + 1) != std::string::npos) {
    return std::nullopt;  // no port, or a bare IPv6 address
  }
  return target.substr(colon + 1);
}

}  // namespace

absl::StatusOr<ServerConnection> ServerConnection::FromFlags(const Args& args) {
  ServerConnection c;
  c.server = args.Get("server", DefaultServer());
  if (c.server.empty()) return absl::InvalidArgumentError("--server is empty; give HOST:PORT");
  if (std::optional<std::string> port = PortOf(c.server); port.has_value()) {
    int number = 0;
    if (!absl::SimpleAtoi(*port, &number) || number < 1 || number > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--server ", c.server, ": the port must be a number in 1-65535; got \"", *port, "\""));
    }
  }
  if (std::string file = args.Get("token_file"); !file.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read --token_file ", file, ": it is a directory"));
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read --token_file ", file));
    std::stringstream buffer;
    buffer << in.rdbuf();
    c.token = std::string(absl::StripAsciiWhitespace(buffer.str()));
    if (c.token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--token_file ", file, " is empty"));
    }
  }
  c.tls.ca_file = args.Get("tls_ca_file");
  c.tls.cert_file = args.Get("tls_cert_file");
  c.tls.key_file = args.Get("tls_key_file");
  // Any TLS file turns TLS on: a key alone must fail ("needs both"), never mean plaintext.
  c.tls.enabled = args.Has("tls") || !c.tls.ca_file.empty() || !c.tls.cert_file.empty() ||
                  !c.tls.key_file.empty();
  auto credentials = dcdir::client::MakeChannelCredentials(c.tls);
  if (!credentials.ok()) return credentials.status();
  c.credentials = *std::move(credentials);
  c.connection = {c.server, c.tls.enabled, !c.token.empty(), !c.tls.cert_file.empty(),
                  /*timeout_flag=*/"", /*timeout=*/absl::ZeroDuration()};
  return c;
}

std::shared_ptr<grpc::Channel> ServerConnection::NewChannel() const {
  return grpc::CreateChannel(server, credentials);
}

void ServerConnection::Prepare(grpc::ClientContext& context, absl::Duration timeout) const {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  AddToken(context);
}

void ServerConnection::AddToken(grpc::ClientContext& context) const {
  if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

}  // namespace dcdir::cli
