// resolver-app: asks a dcdir server which data centers a client should use, and prints the
// answer and the order to try them in. The smallest complete use of the dcdir client library.
//
//   resolver-app HOST:PORT COUNTRY [CLIENT_ID]
//
// Exit codes: 0 resolved, 1 the directory refused or could not answer (code and reason token
// on stderr), 2 usage.

#include <iostream>
#include <string>

#include "dcdir/client/directory_client.h"
#include "dcdir/client/errors.h"
#include "dcdir/client/version.h"

namespace {

void PrintDataCenter(const char* kind, const dcdir::client::DataCenter& dc) {
  std::cout << kind << " " << dc.id << " region=" << dc.region << " country=" << dc.country
            << " endpoints=";
  for (size_t i = 0; i < dc.endpoints.size(); ++i) {
    std::cout << (i == 0 ? "" : ",") << dc.endpoints[i];
  }
  std::cout << (dc.cross_border ? " cross_border" : "") << (dc.congested ? " congested" : "")
            << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: resolver-app HOST:PORT COUNTRY [CLIENT_ID]\n";
    return 2;
  }
  dcdir::client::ClientOptions options;
  options.addresses = {argv[1]};
  auto client = dcdir::client::DirectoryClient::Create(options);
  if (!client.ok()) {
    std::cerr << "resolver-app: " << client.status() << "\n";
    return 2;
  }

  dcdir::client::DirectoryRequest request;
  request.client_country = argv[2];
  if (argc == 4) request.client_id = argv[3];
  auto resolution = (*client)->Resolve(request);
  if (!resolution.ok()) {
    std::cerr << "resolver-app: " << dcdir::client::CodeName(resolution.status().code()) << " "
              << dcdir::client::ErrorReason(resolution.status()) << "\n";
    return 1;
  }

  const dcdir::client::Directory& directory = resolution->directory;
  std::cout << "dcdir client library " << dcdir::client::Version() << "\n"
            << "client_region " << directory.client_region << "\n"
            << "fallback_active " << (directory.fallback_active ? "true" : "false") << "\n"
            << "ttl " << absl::FormatDuration(directory.ttl) << "\n";
  for (const auto& dc : directory.primaries) PrintDataCenter("primary", dc);
  for (const auto& dc : directory.secondaries) PrintDataCenter("secondary", dc);
  std::cout << "try";
  for (const auto& attempt : resolution->plan.attempts) std::cout << " " << attempt.datacenter.id;
  std::cout << "\n";
  return 0;
}
