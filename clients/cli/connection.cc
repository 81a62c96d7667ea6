#include "clients/cli/connection.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/tls.h"
#include "grpcpp/create_channel.h"

namespace dcdir::cli {

absl::StatusOr<ServerConnection> ServerConnection::FromFlags(const Args& args) {
  ServerConnection c;
  c.server = args.Get("server", DefaultServer());
  if (std::string file = args.Get("token_file"); !file.empty()) {
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
  c.tls.enabled = args.Has("tls") || !c.tls.ca_file.empty() || !c.tls.cert_file.empty();
  auto credentials = dcdir::client::MakeChannelCredentials(c.tls);
  if (!credentials.ok()) return credentials.status();
  c.credentials = *std::move(credentials);
  c.connection = {c.server, c.tls.enabled, !c.token.empty(), !c.tls.cert_file.empty()};
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
