#include "tests/testing/cert_factory.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::testing {

CertFactory::CertFactory() {
  dir_ = MakeTempDir("dcdir-certs");
  if (dir_.empty()) ADD_FAILURE() << "mkdtemp failed";
}

CertFactory::~CertFactory() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool CertFactory::Run(const std::string& command) {
  const std::string full = "cd '" + dir_ + "' && " + command + " >>openssl.log 2>&1";
  const int rc = std::system(full.c_str());
  if (rc != 0) {
    ADD_FAILURE() << "failed (" << rc << "): " << command << "\n" << Read(dir_ + "/openssl.log");
    return false;
  }
  return true;
}

std::string CertFactory::Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

KeyPair CertFactory::MakeCa(const std::string& name) {
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=" + name + " -keyout " + name + ".key -out " + name + ".pem "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
  return {dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
}

KeyPair CertFactory::MakeLeaf(const KeyPair& ca, const std::string& name, const std::string& san,
                              bool expired) {
  {
    std::ofstream ext(dir_ + "/" + name + ".ext");
    ext << "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        << "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=" << san << "\n";
  }
  Run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" +
      name + " -keyout " + name + ".key -out " + name + ".csr");
  if (!expired) {
    Run("openssl x509 -req -in " + name + ".csr -CA " + ca.cert_file + " -CAkey " + ca.key_file +
        " -CAcreateserial -days 1 -sha256 -extfile " + name + ".ext -out " + name + ".pem");
  } else {
    // `openssl x509 -req` cannot backdate; `openssl ca` can (-startdate/-enddate).
    std::ofstream(dir_ + "/index.txt").close();
    std::ofstream(dir_ + "/serial") << "1000\n";
    std::filesystem::create_directories(dir_ + "/newcerts");
    {
      std::ofstream cnf(dir_ + "/ca.cnf");
      cnf << "[ca]\ndefault_ca=d\n[d]\ndatabase=" << dir_ << "/index.txt\nnew_certs_dir=" << dir_
          << "/newcerts\nserial=" << dir_ << "/serial\ndefault_md=sha256\npolicy=p\n"
          << "unique_subject=no\n[p]\ncommonName=supplied\n";
    }
    Run("openssl ca -batch -notext -config ca.cnf -cert " + ca.cert_file + " -keyfile " +
        ca.key_file + " -in " + name + ".csr -startdate 20200101000000Z -enddate "
        "20200102000000Z -extfile " + name + ".ext -out " + name + ".pem");
  }
  return {dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
}

}  // namespace dcdir::testing
