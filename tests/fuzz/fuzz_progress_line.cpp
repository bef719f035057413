// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes parse_progress_line (the GUI reading `apportion train`'s stdout protocol) and, when a
// line parses, the round trip through format_progress_line: the formatted line must parse and
// format to the same text again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/events/progress_line.h"
#include "tests/fuzz/fuzz_util.h"

using namespace apportion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] {
    const std::optional<ProgressLine> line = parse_progress_line(text);
    if (!line) return;
    const std::string once = format_progress_line(*line);
    const std::optional<ProgressLine> back = parse_progress_line(once);
    if (!back) {
      std::fprintf(stderr, "fuzz: a formatted line does not parse: %s\n", once.c_str());
      std::abort();
    }
    const std::string twice = format_progress_line(*back);
    if (twice != once) {
      std::fprintf(stderr, "fuzz: round trip changed the line:\n%s\n%s\n", once.c_str(),
                   twice.c_str());
      std::abort();
    }
  });
  return 0;
}
