// SPDX-License-Identifier: GPL-3.0-or-later
// A reader that polls a run store every 0.2 s in one process, as the GUI does (one RunReader,
// the run list with latest metrics, then each run's train/loss rows after the last seen step),
// until a stop file appears: store_poller DB STOP_FILE. Used by cli_concurrency.sh beside four
// writing `apportion train` processes. Prints "polls P failures F max_ms M rows R" (R: train/loss
// rows seen over all runs); every StoreError (SQLITE_BUSY included) counts as a failure.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "core/common/error.h"
#include "core/store/run_reader.h"

int main(int argc, char** argv) {
  using namespace apportion;
  using clock = std::chrono::steady_clock;
  if (argc != 3) {
    std::fprintf(stderr, "usage: store_poller DB STOP_FILE\n");
    return 2;
  }
  const std::string db = argv[1], stop = argv[2];
  std::unique_ptr<RunReader> reader;
  std::map<std::string, int64_t> last_step;
  long polls = 0, failures = 0, rows = 0, max_ms = 0;
  while (!std::filesystem::exists(stop)) {
    const auto t0 = clock::now();
    try {
      if (!reader) reader = std::make_unique<RunReader>(db);
      for (const Run& run : reader->list_runs()) {
        const auto it = last_step.try_emplace(run.run_id, -1).first;
        const MetricSeries s = reader->metric_series(run.run_id, "train/loss", it->second);
        rows += static_cast<long>(s.steps.size());
        if (!s.steps.empty()) it->second = s.steps.back();
      }
      ++polls;
    } catch (const StoreError& e) {
      // Before the first writer has created the schema the store is not readable yet.
      if (reader || polls > 0) {
        ++failures;
        std::fprintf(stderr, "poll %ld: %s\n", polls, e.what());
      }
    }
    const long ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0).count());
    if (ms > max_ms) max_ms = ms;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::printf("polls %ld failures %ld max_ms %ld rows %ld\n", polls, failures, max_ms, rows);
  return failures == 0 ? 0 : 1;
}
