// SPDX-License-Identifier: GPL-3.0-or-later
// Token cache: fills Example::prompt_ids/answer_ids once per (data file, tokenizer, template,
// reader options) and keeps them in <cache_dir>/<key>.tok, so a run over a large data set
// (commonsense_170k) does not re-tokenise it every launch nor on every batch. The ids come from
// tokenize_prompt_answer (core/data/batcher.h), the function the Batcher itself uses, so cached
// and uncached batches are identical. A file that is missing, truncated, corrupt, of another
// format version, or whose texts, key or spot-checked ids do not match is ignored, the examples
// are re-tokenised and the file is rewritten atomically (.tmp, fsync, rename); nothing is logged.
// File format and timings: docs/DATA_LOADING.md.
//
// Intended usage:
//   std::vector<Example> train = read_jsonl_examples(path, cfg.prompt_template, task);
//   const std::string key = sha256_hex(sha256_hex_of_file(path) + "\n" +
//                                      tokenizer_fingerprint(backbone_dir) + "\n" +
//                                      cfg.prompt_template + "\n" + reader_options);
//   tokenize_with_cache(train, *tokenizer, workspace + "/cache/tokens", key);
//   // train[i].prompt_ids / answer_ids are now filled; Batcher::make_batch uses them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/data/task_suite.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion {

/// What tokenize_with_cache did.
enum class TokenCacheOutcome {
  kHit,          ///< ids read from a valid cache file
  kWritten,      ///< tokenised, cache file (re)written
  kWriteFailed,  ///< tokenised, but the cache file could not be written (e.g. read-only dir)
};

/// Fills prompt_ids/answer_ids of every example from <cache_dir>/<key>.tok when that file is
/// valid for these examples and this tokenizer, else tokenises them (tokenize_examples) and
/// writes the file. `key` must be non-empty and made of [A-Za-z0-9._-] (a hash, typically);
/// ConfigError otherwise. Tokenizer errors propagate; cache-file problems never do.
TokenCacheOutcome tokenize_with_cache(std::vector<Example>& examples,
                                      const Tokenizer& tok,
                                      const std::string& cache_dir,
                                      const std::string& key);

/// Fills prompt_ids/answer_ids of every example with tokenize_prompt_answer, on `threads`
/// threads (0: the machine's hardware concurrency, at most 16; the repository's tokenizers are
/// safe to call concurrently: encode is const and the BPE cache is locked).
void tokenize_examples(std::vector<Example>& examples, const Tokenizer& tok, int threads = 0);

/// Writes the examples' ids to `path` (via path + ".tmp.<pid>", fsync, rename). False on any
/// I/O failure (the temporary file is removed); never throws for I/O.
bool write_token_cache(const std::string& path,
                       const std::string& key,
                       const std::vector<Example>& examples);

/// Reads `path` into the examples' ids when it is a valid cache for exactly these texts under
/// `key`, and a few examples re-tokenised with `tok` give the stored ids. False (examples
/// untouched) otherwise; never throws for a bad file.
bool read_token_cache(const std::string& path,
                      const std::string& key,
                      std::vector<Example>& examples,
                      const Tokenizer& tok);

/// Lower-case hex SHA-256 of bytes / of a file's content (DataError if it cannot be read).
std::string sha256_hex(std::string_view data);
std::string sha256_hex_of_file(const std::string& path);

/// SHA-256 (hex) over the tokenizer files present in a model folder (tokenizer.json,
/// tokenizer.model, tokenizer_config.json, special_tokens_map.json, added_tokens.json, vocab.json,
/// vocab.txt, merges.txt) and config.json's special-token ids; "builtin-byte" when the folder has
/// no tokenizer.json / tokenizer.model / vocab / merges file (or is empty or "").
std::string tokenizer_fingerprint(const std::string& backbone_folder);

}  // namespace apportion
