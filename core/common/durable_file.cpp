// SPDX-License-Identifier: GPL-3.0-or-later
// fsync + rename + fsync(dir) publication of files.
#include "core/common/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace apportion {

namespace {

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open '" + path + "'");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw std::system_error(err, std::generic_category(), "cannot fsync '" + path + "'");
}

}  // namespace

void publish_file(const std::string& temp, const std::string& path) {
  fsync_path(temp, O_RDONLY);
  if (std::rename(temp.c_str(), path.c_str()) != 0)
    throw std::system_error(errno, std::generic_category(),
                            "cannot rename '" + temp + "' to '" + path + "'");
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  fsync_path(folder.empty() ? std::string(".") : folder.string(), O_RDONLY | O_DIRECTORY);
}

bool remove_stale_temp(const std::string& path) {
  std::error_code ec;
  return std::filesystem::remove(path + ".tmp", ec);
}

}  // namespace apportion
