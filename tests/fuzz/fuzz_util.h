// SPDX-License-Identifier: GPL-3.0-or-later
// Shared helpers of the libFuzzer targets: a per-process scratch folder in /dev/shm for the
// parsers that only read files, and the exception policy (a clean exception is the expected
// outcome for bad input; crashes, sanitizer reports, leaks, timeouts and OOMs are findings).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <typeinfo>

#include "core/common/error.h"

namespace apportion::fuzz {

/// A folder private to this process (/dev/shm, else the temp dir), created once and removed at
/// exit. Files written into it are reused from one input to the next. A crash skips the
/// removal, so the folders of processes that no longer exist are removed on creation.
inline const std::string& scratch_dir() {
  // Never destroyed, so that the atexit handler below can still read it.
  static const std::string* const dir = [] {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path base =
        fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    for (const auto& entry : fs::directory_iterator(base, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("ap-fuzz-", 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + 8, nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        fs::remove_all(entry.path(), ec);
      }
    }
    const fs::path d = base / ("ap-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return new std::string(d.string());
  }();
  static const bool cleanup = [] {
    return std::atexit([] {
             std::error_code ignored;
             std::filesystem::remove_all(*dir, ignored);
           }) == 0;
  }();
  (void)cleanup;
  return *dir;
}

/// Writes `size` bytes to `path` (truncating) and returns the path.
inline std::string write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

inline bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string(v) == "1";
}

/// Runs `body`; apportion::Error is the expected outcome for bad input and is swallowed. Other
/// std::exceptions are swallowed too (the CLI's main catches them), but the first of each type is
/// printed, since core code is meant to throw its own types. With AP_FUZZ_STRICT=1 in the
/// environment they abort instead, so that libFuzzer saves the input; AP_FUZZ_VERBOSE=1 prints
/// every exception (to check what a seed exercises).
template <typename Body>
void expect_clean(Body&& body) {
  static const bool verbose = env_flag("AP_FUZZ_VERBOSE");
  try {
    body();
  } catch (const Error& e) {
    if (verbose) std::fprintf(stderr, "fuzz: %.300s\n", e.what());
  } catch (const std::exception& e) {
    static const bool strict = env_flag("AP_FUZZ_STRICT");
    static std::set<std::string> seen;
    const std::string type = typeid(e).name();
    if (verbose || strict || seen.insert(type).second) {
      std::fprintf(stderr, "fuzz: non-apportion exception %s: %.300s\n", type.c_str(), e.what());
    }
    if (strict) std::abort();
  }
}

}  // namespace apportion::fuzz
