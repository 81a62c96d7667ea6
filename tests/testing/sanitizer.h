#ifndef DCDIR_TESTS_TESTING_SANITIZER_H_
#define DCDIR_TESTS_TESTING_SANITIZER_H_

// Whether this test binary (and so the dcdir-server it spawns, built with the same flags) is a
// sanitizer build. GCC defines __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang 14 (the ASan
// stage of scripts/sanitizers.sh) does not, and answers through __has_feature instead.

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DCDIR_TESTING_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DCDIR_TESTING_SANITIZER_BUILD 1
#endif
#endif

namespace dcdir::testing {

#if defined(DCDIR_TESTING_SANITIZER_BUILD)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_SANITIZER_H_
