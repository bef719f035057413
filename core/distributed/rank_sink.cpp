// SPDX-License-Identifier: GPL-3.0-or-later
// RankSink (see rank_sink.h): warnings, errors and a failed end on stderr, prefixed by the rank.
#include "core/distributed/rank_sink.h"

#include <iostream>

namespace apportion {

void RankSink::on_log(const LogLine& e) {
  if (e.level == "info") return;
  std::cerr << label_ << ": " << e.level << ": " << e.text << std::endl;
}

void RankSink::on_run_finished(const RunFinished& e) {
  if (e.status != RunStatus::Failed) return;
  std::cerr << label_ << ": the run ended FAILED: " << e.message << std::endl;
}

}  // namespace apportion
