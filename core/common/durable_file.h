// SPDX-License-Identifier: GPL-3.0-or-later
// Crash-safe publication of a file written beside its final name: fsync the temporary file,
// rename it over the final name, fsync the folder, so a power cut or SIGKILL leaves either the
// old file or the whole new one, never a torn one (checkpoints, adapters, report.json).
//
// Intended usage:
//   write everything to path + ".tmp";
//   publish_file(path + ".tmp", path);            // throws std::system_error naming the file
//   remove_stale_temp(path);                        // on resume: a crash's leftover .tmp
#pragma once

#include <string>

namespace apportion {

/// fsync(temp), rename(temp, path), fsync(folder of path). Throws std::system_error whose
/// message names the file.
void publish_file(const std::string& temp, const std::string& path);
/// Removes path + ".tmp" if a crash left it; returns whether there was one.
bool remove_stale_temp(const std::string& path);

}  // namespace apportion
