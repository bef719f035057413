// SPDX-License-Identifier: GPL-3.0-or-later
// bench_data_loading: wall time of loading commonsense_170k-sized instruction data cold and from
// the token cache, and the padding of length-bucketed versus uniformly sampled micro-batches.
// It writes a synthetic Alpaca JSON Lines file shaped like LLM-Adapters' commonsense_170k
// (8 task formats in their proportions, instruction 60-120 words with the options, output
// "the correct answer is answer2", answer field) into a temporary folder, then times:
//   parse       read_jsonl_examples (JSON + Alpaca template)
//   file hash   SHA-256 of the data file (part of the cache key)
//   tokenise    tokenize_examples, no cache (what every launch paid before the cache)
//   cache write write_token_cache (.tmp, fsync, rename)
//   cache load  tokenize_with_cache on freshly parsed examples, cache present (median of 3)
// and checks that the cached ids equal the fresh ones. Padding: 1000 micro-batches of 16 from
// sample_indices and from LengthBucketSampler, uncapped and at cutoff 256 (LLM-Adapters').
// A plain timing program rather than Google Benchmark: cold and cached loading are one-shot
// measurements whose state (the cache file) changes between them, and a cold tokenisation of
// 170k examples takes tens of seconds, which Google Benchmark's repetitions would multiply.
// Usage: bench_data_loading [--examples N] [--threads T] [--tokenizer DIR] [--seed S]
//   DIR holds tokenizer.json or tokenizer.json.gz (default: tests/data/tokenizers/mistral,
//   Mistral 7B's LLaMA-2-layout BPE; $AP_TEST_DATA/tokenizers/mistral when that is set).
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/batcher.h"
#include "core/data/jsonl_dataset.h"
#include "core/data/length_buckets.h"
#include "core/data/rng.h"
#include "core/data/token_cache.h"
#include "core/tokenizer/tokenizer.h"

using namespace apportion;
namespace fs = std::filesystem;

namespace {

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const char* const kWords[] = {
    "the",      "a",      "of",      "to",      "and",     "in",     "is",     "was",     "for",
    "on",       "with",   "as",      "his",     "her",     "their",  "they",   "at",      "by",
    "from",     "that",   "this",    "it",      "an",      "be",     "people", "water",   "house",
    "school",   "friend", "morning", "evening", "kitchen", "car",    "dog",    "garden",  "money",
    "teacher",  "doctor", "because", "after",   "before",  "while",  "wanted", "decided", "needed",
    "could",    "would",  "should",  "bought",  "cooked",  "opened", "closed", "carried", "started",
    "finished", "walked", "quickly", "slowly",  "happy",   "angry",  "tired",  "hungry",  "small",
    "large",    "old",    "new",     "red",     "green",   "paper",  "glass",  "wooden",  "metal",
    "Kai",      "Jordan", "Riley",   "Sydney",  "Carson",  "Robin",  "Aubrey", "Quinn",   "Ian",
    "Dennis",   "Maria",  "Kevin",   "table",   "window",  "bottle", "knife",  "bread",   "butter",
    "salt",     "sugar",  "oven",    "towel",   "shoes",   "phone",  "which",  "what",    "why",
    "how",      "where",  "when",    "does",    "did",     "use",    "make",   "take",    "put",
    "keep",     "remove", "clean",   "fill",    "party",   "game",   "team",   "music",   "movie",
    "store",    "city",   "river",   "weather", "winter",  "summer", "cold",   "warm",    "light",
    "dark",     "heavy"};
constexpr int kNumWords = sizeof(kWords) / sizeof(kWords[0]);

std::string words(SplitMix64& rng, int n, bool sentence) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    std::string w = kWords[rng.uniform(kNumWords)];
    if (sentence && i == 0)
      w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    out += w;
    if (sentence && i + 1 < n && rng.uniform(9) == 0) out += ',';
  }
  return out;
}

/// One commonsense_170k-shaped line (formats of LLM-Adapters' dataset/commonsense_170k.json).
nlohmann::json make_line(SplitMix64& rng) {
  struct Format {
    const char* head;
    const char* option;  ///< option name prefix ("answer", "solution", ...)
    int options;
    int weight;  ///< examples in commonsense_170k
  };
  static const Format kFormats[] = {
      {"Please answer the following question with true or false, question: ", "", 2, 9427},
      {"Please choose the correct solution to the question: ", "solution", 2, 16113},
      {"Please choose the correct answer to the question: ", "answer", 3, 33410},
      {"Please choose the correct ending to complete the given sentence: ", "ending", 4, 39905},
      {"Please choose the correct answer to fill in the blank to complete the given sentence: ",
       "option", 2, 40398},
      {"Please choose the correct answer to the question: ", "answer", 4, 3370 + 4957}};
  int total_weight = 0;
  for (const Format& f : kFormats) total_weight += f.weight;
  int pick = static_cast<int>(rng.uniform(static_cast<uint64_t>(total_weight)));
  const Format* f = kFormats;
  while (pick >= f->weight) pick -= (f++)->weight;
  const int target = rng.range(60, 120);  // instruction words, options included
  const bool boolq = f->option[0] == '\0';
  const int head_words = 9;
  const int option_words = boolq ? 0 : (f->options * rng.range(2, 8));
  const int body = std::max(8, target - head_words - option_words - (boolq ? 3 : 4));
  std::string instruction = std::string(f->head) + words(rng, body, true) + (boolq ? "?" : ".");
  std::string format;
  for (int o = 1; o <= (boolq ? 0 : f->options); ++o) {
    std::string name = std::string(f->option) + std::to_string(o);
    std::string shown = name;
    shown[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(shown[0])));
    instruction +=
        (o == 1 ? "\n\n" : "\n") + shown + ": " + words(rng, option_words / f->options, false);
    format += (o == 1 ? "" : "/") + name;
  }
  std::string label;
  if (boolq) {
    format = "true/false";
    label = rng.uniform(2) ? "true" : "false";
  } else {
    label = std::string(f->option) + std::to_string(1 + rng.uniform(f->options));
  }
  instruction += "\n\nAnswer format: " + format;
  return {{"instruction", instruction},
          {"input", ""},
          {"output", "the correct answer is " + label},
          {"answer", label}};
}

bool gunzip(const std::string& from, const std::string& to) {
  gzFile in = gzopen(from.c_str(), "rb");
  if (!in) return false;
  std::ofstream out(to, std::ios::binary);
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(in, buffer, sizeof(buffer))) > 0) out.write(buffer, n);
  gzclose(in);
  return n == 0 && static_cast<bool>(out);
}

struct Args {
  int64_t examples = 170000;
  int threads = 0;
  uint64_t seed = 1;
  std::string tokenizer;
};

Args parse_args(int argc, char** argv) {
  Args a;
  const char* data = std::getenv("AP_TEST_DATA");
  a.tokenizer = std::string(data ? data : AP_SOURCE_DIR "/tests/data") + "/tokenizers/mistral";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--examples")
      a.examples = std::stoll(v);
    else if (k == "--threads")
      a.threads = std::stoi(v);
    else if (k == "--seed")
      a.seed = std::stoull(v);
    else if (k == "--tokenizer")
      a.tokenizer = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (a.threads <= 0)
    a.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  char tmpl[] = "/tmp/ap-bench-data-XXXXXX";
  if (!::mkdtemp(tmpl)) return 1;
  const fs::path root = tmpl;
  const fs::path tok_dir = root / "tokenizer";
  fs::create_directories(tok_dir);
  const fs::path src = args.tokenizer;
  if (fs::exists(src / "tokenizer.json")) {
    fs::copy_file(src / "tokenizer.json", tok_dir / "tokenizer.json");
  } else if (!gunzip((src / "tokenizer.json.gz").string(), (tok_dir / "tokenizer.json").string())) {
    std::fprintf(stderr, "no tokenizer.json(.gz) in %s\n", src.c_str());
    return 1;
  }
  if (fs::exists(src / "tokenizer_config.json")) {
    fs::copy_file(src / "tokenizer_config.json", tok_dir / "tokenizer_config.json");
  }

  // 1. The data file.
  const std::string data_path = (root / "commonsense_synthetic.json").string();
  const double t_gen = seconds([&] {
    SplitMix64 rng(args.seed);
    std::ofstream out(data_path, std::ios::binary);
    for (int64_t i = 0; i < args.examples; ++i) out << make_line(rng).dump() << '\n';
  });
  const auto file_bytes = fs::file_size(data_path);

  std::unique_ptr<Tokenizer> tok;
  const double t_tok_load = seconds([&] { tok = load_tokenizer(tok_dir.string()); });

  // 2. Cold: parse, key, tokenise, write the cache.
  std::vector<Example> cold;
  const double t_parse = seconds([&] { cold = read_jsonl_examples(data_path, "alpaca", "cs"); });
  std::string key;
  const double t_key = seconds([&] {
    key = sha256_hex(sha256_hex_of_file(data_path) + "\n" +
                     tokenizer_fingerprint(tok_dir.string()) + "\nalpaca\n");
  });
  const double t_tokenise = seconds([&] { tokenize_examples(cold, *tok, args.threads); });
  const fs::path cache_dir = root / "cache";
  fs::create_directories(cache_dir);
  const std::string cache_path = (cache_dir / (key + ".tok")).string();
  bool written = false;
  const double t_write = seconds([&] { written = write_token_cache(cache_path, key, cold); });
  if (!written) {
    std::fprintf(stderr, "cache write failed\n");
    return 1;
  }
  const auto cache_bytes = fs::file_size(cache_path);

  // 3. Warm: fresh parse, then the cache (median of three loads).
  std::vector<double> loads;
  std::vector<Example> warm;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<Example> parsed = read_jsonl_examples(data_path, "alpaca", "cs");
    TokenCacheOutcome outcome{};
    loads.push_back(
        seconds([&] { outcome = tokenize_with_cache(parsed, *tok, cache_dir.string(), key); }));
    if (outcome != TokenCacheOutcome::kHit) {
      std::fprintf(stderr, "expected a cache hit\n");
      return 1;
    }
    warm = std::move(parsed);
  }
  std::sort(loads.begin(), loads.end());
  const double t_load = loads[1];
  size_t mismatches = 0;
  int64_t total_ids = 0;
  for (size_t i = 0; i < cold.size(); ++i) {
    mismatches +=
        cold[i].prompt_ids != warm[i].prompt_ids || cold[i].answer_ids != warm[i].answer_ids;
    total_ids += static_cast<int64_t>(cold[i].prompt_ids.size() + cold[i].answer_ids.size());
  }

  const double n = static_cast<double>(cold.size());
  std::printf(
      "bench_data_loading: %lld examples, %.1f MB JSONL (generated in %.2f s), "
      "tokenizer %s (%s, loaded in %.2f s), %d tokenising thread(s), "
      "%.1f ids/example, cache file %.1f MB, cached == fresh ids: %s\n\n",
      static_cast<long long>(cold.size()), file_bytes / 1e6, t_gen, src.c_str(),
      tok->kind().c_str(), t_tok_load, args.threads, static_cast<double>(total_ids) / n,
      cache_bytes / 1e6, mismatches == 0 ? "yes" : "NO");
  std::printf("| Stage | Seconds | Examples/s |\n| --- | ---: | ---: |\n");
  const auto row = [&](const char* name, double s) {
    std::printf("| %s | %.2f | %.0f |\n", name, s, n / s);
  };
  row("parse JSONL + Alpaca template (`read_jsonl_examples`)", t_parse);
  row("cache key (SHA-256 of file + tokenizer fingerprint)", t_key);
  row("tokenise, no cache (`tokenize_examples`)", t_tokenise);
  row("write cache (`write_token_cache`)", t_write);
  row("load from cache (`tokenize_with_cache`, hit; median of 3)", t_load);
  row("**cold total** (parse + key + tokenise + write)", t_parse + t_key + t_tokenise + t_write);
  row("**cached total** (parse + key + load)", t_parse + t_key + t_load);
  std::printf("\n");

  // 4. Padding of 1000 micro-batches of 16.
  const std::vector<int32_t> lengths = token_lengths(cold, /*add_eos=*/true);
  std::printf(
      "| Sampler | cutoff | padding fraction (1000 micro-batches of 16) |\n"
      "| --- | ---: | ---: |\n");
  for (int cutoff : {0, 256}) {
    PaddingCount uniform, bucketed;
    const LengthBucketSampler sampler(lengths, 16, 1, args.seed);
    for (int64_t step = 0; step < 1000; ++step) {
      uniform += count_padding(
          lengths, sample_indices(static_cast<int64_t>(lengths.size()), 16, args.seed, step, 0, 1),
          cutoff);
      bucketed += count_padding(lengths, sampler.indices(step, 0), cutoff);
    }
    const std::string c = cutoff > 0 ? std::to_string(cutoff) : std::string("none");
    std::printf("| `sample_indices` | %s | %.3f |\n", c.c_str(), uniform.fraction());
    std::printf("| `LengthBucketSampler` | %s | %.3f |\n", c.c_str(), bucketed.fraction());
  }
  std::vector<int32_t> sorted = lengths;
  std::sort(sorted.begin(), sorted.end());
  std::printf("\nrow lengths (BOS + prompt + answer + EOS): min %d, median %d, p95 %d, max %d\n",
              sorted.front(), sorted[sorted.size() / 2], sorted[sorted.size() * 95 / 100],
              sorted.back());
  fs::remove_all(root);
  return mismatches == 0 ? 0 : 1;
}
