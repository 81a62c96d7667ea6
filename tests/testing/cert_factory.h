#ifndef DCDIR_TESTS_TESTING_CERT_FACTORY_H_
#define DCDIR_TESTS_TESTING_CERT_FACTORY_H_

// Test certificates made with the openssl CLI in a fresh temporary directory.

#include <string>

namespace dcdir::testing {

struct KeyPair {
  std::string cert_file;
  std::string key_file;
};

class CertFactory {
 public:
  // Creates the directory; every Make* fails the test (ADD_FAILURE) when openssl fails.
  CertFactory();
  ~CertFactory();  // removes the directory

  const std::string& dir() const { return dir_; }
  // A self-signed CA named `name` (files name.pem / name.key).
  KeyPair MakeCa(const std::string& name);
  // A leaf certificate signed by `ca` with the given subjectAltName list (e.g.
  // "DNS:localhost,IP:127.0.0.1" or "URI:dcdir://dc/us-sjc"), valid for a day, or, when
  // `expired`, valid only during 2020-01-01.
  KeyPair MakeLeaf(const KeyPair& ca, const std::string& name, const std::string& san,
                   bool expired = false);
  // The file's contents.
  static std::string Read(const std::string& path);

 private:
  bool Run(const std::string& command);
  std::string dir_;
};

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_CERT_FACTORY_H_
