// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes load_tokenizer on a model folder holding only the fuzzed tokenizer.json (the HF
// tokenizer: model, vocab, merges, added tokens, normalizer, pre-tokenizer with PCRE2 regexes,
// post-processor, decoder), then encodes a short fixed text and decodes the ids when it loads.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

using namespace apportion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    std::filesystem::create_directories(fuzz::scratch_dir() + "/model");
    return fuzz::scratch_dir() + "/model";
  }();
  fuzz::write_file(dir + "/tokenizer.json", data, size);
  fuzz::expect_clean([&] {
    const std::unique_ptr<Tokenizer> tok = load_tokenizer(dir);
    (void)tok->vocab_size();
    (void)tok->bos_id();
    (void)tok->eos_id();
    (void)tok->pad_id();
    (void)tok->kind();
    const std::string text =
        "Hello world! 12 345 h\xC3\xA9llo \xE6\x97\xA5\xE6\x9C\xAC <s>  a\tb\n";
    for (const bool special : {false, true}) {
      const std::vector<int64_t> ids = tok->encode(text, special);
      for (const int64_t id : ids) {
        if (const auto token = tok->id_to_token(id)) (void)tok->token_to_id(*token);
      }
      (void)tok->decode(ids, /*skip_special_tokens=*/false);
      (void)tok->decode(ids, /*skip_special_tokens=*/true);
    }
  });
  return 0;
}
