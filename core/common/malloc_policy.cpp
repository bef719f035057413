// SPDX-License-Identifier: GPL-3.0-or-later
// The training process's malloc policy (see malloc_policy.h): glibc's mallopt, or nothing.
#include "core/common/malloc_policy.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace apportion {
namespace {

std::string& chosen() {
  static std::string policy = "system";
  return policy;
}

bool set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

}  // namespace

std::string apply_malloc_policy() {
  static const bool applied = [] {
    const char* mode = std::getenv("APPORTION_MALLOC");
    if (mode != nullptr && std::strcmp(mode, "system") == 0) return true;
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (set("MALLOC_MMAP_MAX_") || set("MALLOC_MMAP_THRESHOLD_") || set("MALLOC_TRIM_THRESHOLD_") ||
        set("MALLOC_TOP_PAD_") ||
        (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr)) {
      chosen() = "environment";
      return true;
    }
#if defined(__GLIBC__)
    // Every allocation from the heap (no per-allocation mappings), and the heap never trimmed.
    if (mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 0x7fffffff) == 1)
      chosen() = "keep";
#endif
    return true;
  }();
  (void)applied;
  return chosen();
}

std::string malloc_policy() { return chosen(); }

}  // namespace apportion
