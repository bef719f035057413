// SPDX-License-Identifier: GPL-3.0-or-later
// Looks up openblas_set_num_threads in the loaded libraries (no link-time dependency).
#include "core/train/blas_threads.h"

#include <dlfcn.h>

namespace apportion {

bool set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  auto* fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (fn == nullptr) return false;
  fn(threads);
  return true;
}

}  // namespace apportion
