#include "clients/cpp/directory_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dcdir::client {
namespace {

constexpr char kMagic[] = "dcdir-directory-cache v1";

// The request as one line, stored in the file so a hash collision can never serve the wrong
// answer.
std::string RequestKey(const v1::GetDirectoryRequest& request) {
  return absl::StrCat(absl::AsciiStrToUpper(request.client_country()), "|", request.tenant_id(),
                      "|", request.client_id(), "|", request.max_secondaries());
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

absl::Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("write failed: ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

DirectoryCache::DirectoryCache(std::string dir) : dir_(std::move(dir)) {}

std::string DirectoryCache::PathFor(const v1::GetDirectoryRequest& request) const {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(Fnv1a(RequestKey(request))));
  return absl::StrCat(dir_, "/dcdir-directory-", hex, ".cache");
}

absl::Status DirectoryCache::Store(const v1::GetDirectoryRequest& request,
                                   const v1::Directory& directory, absl::Time fetched_at) const {
  static std::atomic<uint64_t> counter{0};
  const std::string path = PathFor(request);
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid(), ".", counter++);
  std::string body;
  if (!directory.SerializeToString(&body)) {
    return absl::InternalError("cannot serialize the directory answer");
  }
  const std::string contents =
      absl::StrCat(kMagic, "\n", RequestKey(request), "\n", absl::ToUnixMillis(fetched_at), "\n",
                   body.size(), "\n", body);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot write the directory cache ", tmp, ": ", std::strerror(errno)));
  }
  absl::Status status = WriteAll(fd, contents);
  if (status.ok() && ::fsync(fd) != 0) {
    status = absl::InternalError(absl::StrCat("fsync failed: ", std::strerror(errno)));
  }
  ::close(fd);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = absl::InternalError(absl::StrCat("rename failed: ", std::strerror(errno)));
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write the directory cache ", path, ": ", status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<CachedDirectory> DirectoryCache::Load(const v1::GetDirectoryRequest& request) const {
  const std::string path = PathFor(request);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no cached answer at ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  // Header: magic, request key, fetched_at (unix ms), body size; then the body.
  size_t pos = 0;
  std::string lines[4];
  for (std::string& line : lines) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) return absl::NotFoundError("the cached answer is truncated");
    line = data.substr(pos, end - pos);
    pos = end + 1;
  }
  int64_t millis = 0;
  size_t size = 0;
  if (lines[0] != kMagic || lines[1] != RequestKey(request) ||
      !absl::SimpleAtoi(lines[2], &millis) || !absl::SimpleAtoi(lines[3], &size) ||
      data.size() - pos != size) {
    return absl::NotFoundError(absl::StrCat("the cached answer at ", path, " is not usable"));
  }
  CachedDirectory cached;
  if (!cached.directory.ParseFromArray(data.data() + pos, static_cast<int>(size))) {
    return absl::NotFoundError(absl::StrCat("the cached answer at ", path, " does not parse"));
  }
  cached.fetched_at = absl::FromUnixMillis(millis);
  return cached;
}

void SaveToCache(const DirectoryCache* cache, const v1::GetDirectoryRequest& request,
                 const v1::Directory& directory, absl::Time fetched_at) {
  if (cache == nullptr) return;
  if (absl::Status s = cache->Store(request, directory, fetched_at); !s.ok()) {
    std::cerr << "dcdir-client: WARNING: " << s.message() << "\n";
  }
}

}  // namespace dcdir::client
