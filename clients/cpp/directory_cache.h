#ifndef DCDIR_CLIENTS_CPP_DIRECTORY_CACHE_H_
#define DCDIR_CLIENTS_CPP_DIRECTORY_CACHE_H_

// The last-known-good answer on disk, one file per request (country, tenant, client id,
// max_secondaries) in a directory. Written atomically (temp file + rename), so a crash never
// leaves a torn file; a file that does not parse is treated as absent. Internal to the library
// (stores the dcdir.v1 message); not installed.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dcdir/v1/directory.pb.h"

namespace dcdir::client {

struct CachedDirectory {
  v1::Directory directory;
  // When the client received the answer (client clock).
  absl::Time fetched_at;
};

class DirectoryCache {
 public:
  // `dir` must exist and be writable.
  explicit DirectoryCache(std::string dir);

  // Replaces the cached answer for `request`.
  absl::Status Store(const v1::GetDirectoryRequest& request, const v1::Directory& directory,
                     absl::Time fetched_at) const;

  // The cached answer for `request`; NOT_FOUND when none (or unreadable).
  absl::StatusOr<CachedDirectory> Load(const v1::GetDirectoryRequest& request) const;

  // The file that holds the answer for `request`.
  std::string PathFor(const v1::GetDirectoryRequest& request) const;

 private:
  std::string dir_;
};

// Stores a good answer in `cache` (nothing when null). A failure is logged to stderr, not
// returned: the client keeps working without its cache.
void SaveToCache(const DirectoryCache* cache, const v1::GetDirectoryRequest& request,
                 const v1::Directory& directory, absl::Time fetched_at);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_DIRECTORY_CACHE_H_
