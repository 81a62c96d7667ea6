#ifndef DCDIR_SERVICE_API_TLS_H_
#define DCDIR_SERVICE_API_TLS_H_

// TLS for the gRPC port and the identity a verified client certificate carries.
//
// Certificate convention (docs/SECURITY.md): a reporter's certificate names the DCs it may report
// for as subject alternative names, either URI `dcdir://dc/<dc-id>` or DNS `<dc-id>.dc.dcdir`.
// An operator's certificate that may call AdminService carries URI `dcdir://admin`.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/server_credentials.h"

namespace dcdir::api {

struct ServerTlsFiles {
  std::string cert_file;       // PEM certificate chain of the server
  std::string key_file;        // PEM private key of the server
  std::string client_ca_file;  // PEM CA bundle for client certificates; empty: none requested
  // How often the files are re-read (a renewed certificate is served without a restart).
  unsigned int refresh_seconds = 60;
  // With client_ca_file: refuse, in the TLS handshake, every client that presents no
  // certificate verified by that CA (apps included). False: request one, admit clients without.
  bool require_client_cert = false;
};

// TLS server credentials that re-read the files every `refresh_seconds`. With a client CA, a
// client certificate is requested and verified when presented; it is required only with
// `require_client_cert` (otherwise the DirectoryService is open to any TLS client). Errors when
// a file is unreadable (NOT_FOUND) or not PEM, the key is unreadable or encrypted, the key does
// not match the first certificate of `cert_file` (OpenSSL's X509_check_private_key: "--tls_key_file
// K does not match the certificate in --tls_cert_file C"), or `require_client_cert` comes without
// a client CA (INVALID_ARGUMENT); the message names the file, never its contents. The match is
// checked at start only: a mismatched pair written later is ignored by gRPC's file watcher,
// which keeps serving the last good pair.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerTlsCredentials(
    const ServerTlsFiles& files);

// What a verified client certificate allows.
struct CertificateIdentity {
  bool present = false;              // the peer presented a certificate that was verified
  bool admin = false;                // carries `dcdir://admin`
  std::vector<std::string> dc_ids;   // DCs it may report for, from its SANs
};

// Reads the identity from a call's auth context (TLS only; empty for plaintext or no cert).
CertificateIdentity IdentityOf(const grpc::AuthContext* auth_context);

// The DC id one SAN value names ("" when it names none): `dcdir://dc/us-sjc` and
// `us-sjc.dc.dcdir` both give "us-sjc".
std::string DcIdFromSan(const std::string& san);

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_TLS_H_
