// SPDX-License-Identifier: GPL-3.0-or-later
// Pulling remote runs home, incrementally and idempotently. A remote run writes its own store
// on its own host; `apportion remote-rows` there extracts the rows of the runs of one launch
// (tag remote/launch = KEY) written since a cursor into a small store file, which travels home
// and is merged here in one transaction. The home store is its own cursor: the newest wall_ms
// of a launch's runs already at home, minus a margin, so an interrupted pull simply starts
// again from what arrived, and pulling twice adds nothing (rows are keyed: metrics and matrices
// by run/key/step, tags by key, the run row updated in place).
//
// Intended usage:
//   remote: extract_launch_rows(remote_store, "sweep-3f2a-1", since_ms, "/tmp/part.sqlite");
//   home:   const PullReport r = merge_launch_rows("part.sqlite", home_store, "sweep-3f2a-1");
//           next since_ms = pull_cursor_ms(home_store, "sweep-3f2a-1");
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace apportion {

/// Tag every remotely launched run carries: the launch that started it (home and remote).
inline constexpr const char* kTagRemoteLaunch = "remote/launch";

/// Margin subtracted from the home cursor (remote clock steps, rows committed out of order).
inline constexpr int64_t kPullMarginMs = 60'000;

/// Writes a new store file `out_path` holding the runs of `source_path` tagged
/// remote/launch = `launch` (every run when `launch` is empty): each run row, params, tags,
/// latest metrics and artifact records whole, metrics and matrices with wall_ms >= since_ms.
/// Returns the number of runs. Throws StoreError naming the file.
int extract_launch_rows(const std::string& source_path,
                        const std::string& launch,
                        int64_t since_ms,
                        const std::string& out_path);

/// What a merge did to one run.
struct PulledRun {
  std::string run_id;
  std::string status;     ///< the run's status after the merge
  int64_t step = 0;       ///< its newest train/loss step at home
  int64_t new_rows = 0;   ///< metric and matrix rows the home store did not have
  bool conflict = false;  ///< the home store holds another run with this id: left untouched
  std::string detail;
};

struct PullReport {
  std::vector<PulledRun> runs;
  int64_t new_rows() const;
  int conflicts() const;
};

/// Merges an extract made by extract_launch_rows into `home_path` (created when missing), all
/// runs in one transaction. A run id already at home but not of launch `launch` is a conflict
/// (reported, never overwritten). Throws StoreError naming the file.
PullReport merge_launch_rows(const std::string& extract_path,
                             const std::string& home_path,
                             const std::string& launch);

/// The launch's runs as they are at home (status, newest train/loss step; no new rows): what a
/// pull reports for a launch that writes the home store directly.
PullReport launch_status(const std::string& home_path, const std::string& launch);

/// Where the next pull of `launch` starts: the smallest, over the launch's runs at home, of
/// their newest metric or matrix wall_ms, minus kPullMarginMs; 0 when none is home yet.
int64_t pull_cursor_ms(const std::string& home_path, const std::string& launch);

}  // namespace apportion
