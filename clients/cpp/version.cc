#include "dcdir/client/version.h"

namespace dcdir::client {

const char* Version() { return DCDIR_VERSION_STRING; }

}  // namespace dcdir::client
