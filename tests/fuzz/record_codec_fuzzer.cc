// libFuzzer target for the store's record decoding (service/store/record_codec.h): the first
// byte picks the decoder, the rest is the stored value. Anything decodable must re-encode to a
// value that decodes to the same encoding (a fixed point); nothing may crash.
//   dcdir_record_codec_fuzzer -runs=20000

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "service/store/record_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto record = dcdir::store::DecodeHealthRecord(value);
      if (!record.ok()) return 0;
      const std::string once = dcdir::store::EncodeHealthRecord(*record);
      auto again = dcdir::store::DecodeHealthRecord(once);
      if (!again.ok() || dcdir::store::EncodeHealthRecord(*again) != once) std::abort();
      break;
    }
    case 1: {
      auto policy = dcdir::store::DecodeTenantPolicy(value);
      if (!policy.ok()) return 0;
      const std::string once = dcdir::store::EncodeTenantPolicy(*policy);
      auto again = dcdir::store::DecodeTenantPolicy(once);
      if (!again.ok() || dcdir::store::EncodeTenantPolicy(*again) != once) std::abort();
      break;
    }
    default: {
      auto t = dcdir::store::DecodeTime(value);
      if (!t.ok()) return 0;
      const std::string once = dcdir::store::EncodeTime(*t);
      auto again = dcdir::store::DecodeTime(once);
      if (!again.ok() || dcdir::store::EncodeTime(*again) != once) std::abort();
      break;
    }
  }
  return 0;
}
