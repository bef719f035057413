// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes read_safetensors_header (core/tensor/safetensors_header.cpp, compiled into this target
// since it belongs to the torch library ap_train): the u64 header length, the header JSON, every
// entry's dtype, shape and data_offsets against the file size, and __metadata__. Input: the
// whole .safetensors file.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/tensor/safetensors_header.h"
#include "tests/fuzz/fuzz_util.h"

using namespace apportion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file(fuzz::scratch_dir() + "/model.safetensors", data, size);
  fuzz::expect_clean([&] {
    const SafetensorsHeader h = read_safetensors_header(path);
    // What the header promises must hold, since loaders read the data section from it.
    for (const SafetensorsEntry& e : h.entries) {
      const bool inside =
          e.begin <= e.end && h.data_start <= h.file_size && e.end <= h.file_size - h.data_start;
      const bool sized =
          static_cast<uint64_t>(e.numel()) * static_cast<uint64_t>(e.itemsize) == e.end - e.begin;
      if (!inside || !sized || h.find(e.name) != &e) {
        std::fprintf(stderr, "fuzz: accepted entry %s [%llu, %llu) breaks the header's rules\n",
                     e.name.c_str(), static_cast<unsigned long long>(e.begin),
                     static_cast<unsigned long long>(e.end));
        std::abort();
      }
    }
  });
  return 0;
}
