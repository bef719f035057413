// SPDX-License-Identifier: GPL-3.0-or-later
// `gpu_check SUBCOMMAND …` (see gpu_check.h); exit 1 when a check fails, 2 on bad usage.
#include <iostream>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/gpu/gpu_check.h"

namespace {

const char* kUsage =
    "usage: gpu_check kv-cache DEVICE\n"
    "       gpu_check logits MODEL_DIR IDS_JSON DTYPE DEVICE [ADAPTER_DIR]\n"
    "       gpu_check throughput DEVICE 7b|tiny STEPS\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace apportion::gpu_check;
  const std::vector<std::string> a(argv + 1, argv + argc);
  try {
    nlohmann::json out;
    if (a.size() == 2 && a[0] == "kv-cache") {
      out = kv_cache_check(a[1]);
    } else if ((a.size() == 5 || a.size() == 6) && a[0] == "logits") {
      out = dump_logits(a[1], a[2], a[3], a[4], a.size() == 6 ? a[5] : "");
    } else if (a.size() == 4 && a[0] == "throughput") {
      out = throughput(a[1], a[2], std::stoi(a[3]));
    } else {
      std::cerr << kUsage;
      return 2;
    }
    std::cout << out.dump() << std::endl;
    return out.value("ok", true) ? 0 : 1;
  } catch (const apportion::Error& e) {
    std::cerr << "gpu_check: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "gpu_check: " << e.what() << std::endl;
    return 1;
  }
}
