// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes the JSON dataset readers on one file: read_dataset_file in the alpaca (JSON array or
// JSON Lines), scienceqa and gsm8k formats (core/datasets), and the jsonl suite's
// read_jsonl_examples (core/data/jsonl_dataset.cpp, compiled into this target: ap_train).
#include <cstdint>
#include <string>

#include "core/data/jsonl_dataset.h"
#include "core/datasets/dataset_readers.h"
#include "tests/fuzz/fuzz_util.h"

using namespace apportion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file(fuzz::scratch_dir() + "/data.jsonl", data, size);
  for (const char* format : {kFormatAlpaca, kFormatScienceQa, kFormatGsm8k}) {
    DatasetSpec spec;
    spec.name = "fuzz";
    spec.format = format;
    fuzz::expect_clean([&] { (void)read_dataset_file(path, spec); });
  }
  fuzz::expect_clean([&] { (void)read_jsonl_examples(path, "alpaca", "fuzz"); });
  return 0;
}
