// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion devices`: what this build can train on, as JSON (the GUI's New-run dialog reads it)
// or, with --table, one line per device.
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "core/train/device_setup.h"

namespace apportion::cli {

int run_list_devices(bool as_table) {
  const nlohmann::json j = list_devices();
  if (!as_table) {
    std::cout << j.dump() << std::endl;
    return kExitFinished;
  }
  for (const auto& d : j["devices"]) {
    std::cout << d["id"].get<std::string>() << "\t" << d["name"].get<std::string>();
    if (d.contains("memory_bytes")) {
      std::cout << "\t" << d["memory_bytes"].get<int64_t>() / (1024 * 1024) << " MiB";
    }
    std::cout << "\tdtypes:";
    for (const auto& t : d["dtypes"]) std::cout << " " << t.get<std::string>();
    std::cout << "\n";
  }
  std::cout << "LibTorch " << j["torch_version"].get<std::string>()
            << (j["cuda_build"].get<bool>() ? " (CUDA build)" : " (CPU-only build)") << std::endl;
  return kExitFinished;
}

}  // namespace apportion::cli
