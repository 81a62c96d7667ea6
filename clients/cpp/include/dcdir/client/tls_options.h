#ifndef DCDIR_CLIENT_TLS_OPTIONS_H_
#define DCDIR_CLIENT_TLS_OPTIONS_H_

// How the client library reaches a dcdir server behind TLS (optionally with a client
// certificate for mTLS). Files are read once, when the client is created.

#include <string>

namespace dcdir::client {

struct ClientTlsOptions {
  bool enabled = false;     // false: plaintext (insecure credentials)
  std::string ca_file;      // PEM roots that sign the server certificate; empty: system roots
  std::string cert_file;    // PEM client certificate chain (mTLS); needs key_file
  std::string key_file;     // PEM client private key
};

}  // namespace dcdir::client

#endif  // DCDIR_CLIENT_TLS_OPTIONS_H_
