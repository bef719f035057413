// SPDX-License-Identifier: GPL-3.0-or-later
// Token cache files (<key>.tok), SHA-256 helpers (OpenSSL libcrypto) and multi-threaded
// tokenisation. Layout (little-endian; docs/DATA_LOADING.md):
//   0   char[8]  magic "APTOKCAC"       8  u32 version      12 u32 0x01020304 (byte order)
//   16  u64      example count          24 u64 total ids (prompt + answer, all examples)
//   32  u8[32]   SHA-256 of the texts   (u64 len, prompt bytes, u64 len, answer bytes)*
//   64  u8[32]   SHA-256 of the payload (everything after the key)
//   96  u32      key length, key bytes
//   then u32 prompt_len, u32 answer_len per example, then all ids as int32 (example order,
//   prompt then answer). Every byte is covered: header fields must equal what the caller's
//   examples and key imply, the payload must match its hash, so a truncated, flipped or stale
//   file is rejected rather than used.
#include "core/data/token_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <openssl/evp.h>

#include "core/common/error.h"
#include "core/data/batcher.h"
#include "core/tokenizer/folder_config.h"

namespace apportion {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'A', 'P', 'T', 'O', 'K', 'C', 'A', 'C'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kByteOrder = 0x01020304;
constexpr size_t kHashOffset = 64;    // payload hash
constexpr size_t kFixedHeader = 100;  // up to and including the key length
constexpr int kSpotChecks = 4;        // examples re-tokenised when a file is read

bool little_endian_host() {
  const uint32_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

/// Incremental SHA-256 (EVP); throws only if libcrypto itself fails.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    AP_CHECK(ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1,
             "SHA-256: libcrypto initialisation failed");
  }
  void update(const void* data, size_t size) {
    if (size > 0) {
      AP_CHECK(EVP_DigestUpdate(ctx_.get(), data, size) == 1, "SHA-256: update failed");
    }
  }
  void update_u64(uint64_t v) { update(&v, sizeof v); }
  std::array<unsigned char, 32> digest() {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    AP_CHECK(EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) == 1 && len == 32,
             "SHA-256: final failed");
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

std::string to_hex(const unsigned char* bytes, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  return out;
}

std::array<unsigned char, 32> texts_hash(const std::vector<Example>& examples) {
  Sha256 h;
  for (const Example& ex : examples) {
    h.update_u64(ex.prompt.size());
    h.update(ex.prompt.data(), ex.prompt.size());
    h.update_u64(ex.answer.size());
    h.update(ex.answer.data(), ex.answer.size());
  }
  return h.digest();
}

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
void append(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool valid_key(const std::string& key) {
  return !key.empty() && key.size() <= 200 && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  const auto d = h.digest();
  return to_hex(d.data(), d.size());
}

std::string sha256_hex_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open the file to hash it");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw DataError(path + ": read error while hashing the file");
  const auto d = h.digest();
  return to_hex(d.data(), d.size());
}

std::string tokenizer_fingerprint(const std::string& backbone_folder) {
  static const char* const kModelFiles[] = {"tokenizer.json", "tokenizer.model", "vocab.json",
                                            "vocab.txt", "merges.txt"};
  static const char* const kAllFiles[] = {"tokenizer.json",
                                          "tokenizer.model",
                                          "tokenizer_config.json",
                                          "special_tokens_map.json",
                                          "added_tokens.json",
                                          "vocab.json",
                                          "vocab.txt",
                                          "merges.txt"};
  std::error_code ec;
  const auto present = [&](const char* name) {
    return !backbone_folder.empty() && fs::is_regular_file(fs::path(backbone_folder) / name, ec);
  };
  if (std::none_of(std::begin(kModelFiles), std::end(kModelFiles), present)) {
    return "builtin-byte";
  }
  std::string record = "apportion-tokenizer-fingerprint-v1\n";
  for (const char* name : kAllFiles) {
    if (!present(name)) continue;
    record += std::string(name) + " " +
              sha256_hex_of_file((fs::path(backbone_folder) / name).string()) + "\n";
  }
  // config.json's special-token ids can decide which BOS/EOS ids a tokenizer adds.
  const tok::FolderTokenConfig cfg = tok::read_folder_token_config(backbone_folder);
  const auto opt = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
  };
  record += "config.json bos=" + opt(cfg.bos_token_id) + " eos=" + opt(cfg.eos_token_id) + "\n";
  return sha256_hex(record);
}

void tokenize_examples(std::vector<Example>& examples, const Tokenizer& tok, int threads) {
  if (threads <= 0) {
    threads = static_cast<int>(std::min(16u, std::max(1u, std::thread::hardware_concurrency())));
  }
  constexpr size_t kBlock = 64;
  const size_t blocks = (examples.size() + kBlock - 1) / kBlock;
  threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), blocks));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto work = [&] {
    try {
      for (size_t b = next++; b < blocks && !failed; b = next++) {
        const size_t end = std::min(examples.size(), (b + 1) * kBlock);
        for (size_t i = b * kBlock; i < end; ++i) {
          PromptAnswerIds ids = tokenize_prompt_answer(tok, examples[i].prompt, examples[i].answer);
          examples[i].prompt_ids = std::move(ids.prompt_ids);
          examples[i].answer_ids = std::move(ids.answer_ids);
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work);
    for (std::thread& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
}

bool write_token_cache(const std::string& path,
                       const std::string& key,
                       const std::vector<Example>& examples) {
  if (!little_endian_host()) return false;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = true;
  try {
    uint64_t total = 0;
    for (const Example& ex : examples) total += ex.prompt_ids.size() + ex.answer_ids.size();
    std::string header(kMagic, sizeof kMagic);
    append<uint32_t>(header, kVersion);
    append<uint32_t>(header, kByteOrder);
    append<uint64_t>(header, examples.size());
    append<uint64_t>(header, total);
    const auto th = texts_hash(examples);
    header.append(reinterpret_cast<const char*>(th.data()), th.size());
    header.append(32, '\0');  // payload hash, written last
    append<uint32_t>(header, static_cast<uint32_t>(key.size()));
    header += key;
    ok = write_all(fd, header.data(), header.size());
    Sha256 payload_hash;
    std::string buf;
    const auto flush = [&] {
      payload_hash.update(buf.data(), buf.size());
      ok = ok && write_all(fd, buf.data(), buf.size());
      buf.clear();
    };
    for (const Example& ex : examples) {
      AP_CHECK(ex.prompt_ids.size() <= UINT32_MAX && ex.answer_ids.size() <= UINT32_MAX,
               "token cache: example too long");
      append<uint32_t>(buf, static_cast<uint32_t>(ex.prompt_ids.size()));
      append<uint32_t>(buf, static_cast<uint32_t>(ex.answer_ids.size()));
      if (buf.size() >= (1u << 20)) flush();
    }
    for (const Example& ex : examples) {
      for (const auto* ids : {&ex.prompt_ids, &ex.answer_ids}) {
        buf.append(reinterpret_cast<const char*>(ids->data()), ids->size() * sizeof(int32_t));
      }
      if (buf.size() >= (1u << 20)) flush();
    }
    flush();
    const auto ph = payload_hash.digest();
    ok = ok && ::pwrite(fd, ph.data(), ph.size(), static_cast<off_t>(kHashOffset)) ==
                   static_cast<ssize_t>(ph.size());
    ok = ok && ::fsync(fd) == 0;
  } catch (...) {
    ok = false;
  }
  ok = (::close(fd) == 0) && ok;
  ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    ::unlink(tmp.c_str());
    return false;
  }
  // Make the rename itself durable (best effort).
  const std::string dir = fs::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

bool read_token_cache(const std::string& path,
                      const std::string& key,
                      std::vector<Example>& examples,
                      const Tokenizer& tok) {
  if (!little_endian_host()) return false;
  std::string data;
  try {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return false;
    const std::streamoff size = in.tellg();
    if (size < static_cast<std::streamoff>(kFixedHeader)) return false;
    data.resize(static_cast<size_t>(size));
    in.seekg(0);
    if (!in.read(data.data(), size)) return false;
  } catch (const std::exception&) {
    return false;  // e.g. bad_alloc on an absurd file
  }
  const char* p = data.data();
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0 || load<uint32_t>(p + 8) != kVersion ||
      load<uint32_t>(p + 12) != kByteOrder || load<uint64_t>(p + 16) != examples.size()) {
    return false;
  }
  const uint64_t total = load<uint64_t>(p + 24);
  const uint64_t key_len = load<uint32_t>(p + 96);
  if (key_len != key.size() || data.compare(kFixedHeader, key_len, key) != 0) return false;
  const uint64_t payload_at = kFixedHeader + key_len;
  const uint64_t n = examples.size();
  // Sizes are checked before multiplying can overflow: the file size bounds both counts.
  if (n > data.size() / 8 || total > data.size() / 4 ||
      data.size() != payload_at + 8 * n + 4 * total) {
    return false;
  }
  Sha256 ph;
  ph.update(p + payload_at, data.size() - payload_at);
  const auto payload_digest = ph.digest();
  if (std::memcmp(payload_digest.data(), p + kHashOffset, 32) != 0) return false;
  const auto text_digest = texts_hash(examples);
  if (std::memcmp(text_digest.data(), p + 32, 32) != 0) return false;
  const char* lengths = p + payload_at;
  const char* ids = lengths + 8 * n;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    sum += uint64_t{load<uint32_t>(lengths + 8 * i)} + load<uint32_t>(lengths + 8 * i + 4);
  }
  if (sum != total) return false;
  // Offsets of each example's ids, then a spot check against the tokenizer: a stale key that
  // names another tokenizer gives other ids for the same texts.
  std::vector<uint64_t> offset(n + 1, 0);
  for (uint64_t i = 0; i < n; ++i) {
    offset[i + 1] =
        offset[i] + load<uint32_t>(lengths + 8 * i) + load<uint32_t>(lengths + 8 * i + 4);
  }
  const auto stored = [&](uint64_t i, bool answer) {
    const uint64_t plen = load<uint32_t>(lengths + 8 * i);
    const uint64_t from = offset[i] + (answer ? plen : 0);
    const uint64_t len = answer ? load<uint32_t>(lengths + 8 * i + 4) : plen;
    std::vector<int32_t> v(static_cast<size_t>(len));
    if (len > 0) std::memcpy(v.data(), ids + 4 * from, 4 * len);
    return v;
  };
  for (int s = 0; s < kSpotChecks && n > 0; ++s) {
    const uint64_t i = (n - 1) * static_cast<uint64_t>(s) / std::max(1, kSpotChecks - 1);
    try {
      const PromptAnswerIds fresh =
          tokenize_prompt_answer(tok, examples[i].prompt, examples[i].answer);
      if (fresh.prompt_ids != stored(i, false) || fresh.answer_ids != stored(i, true)) {
        return false;
      }
    } catch (const DataError&) {
      return false;
    }
  }
  for (uint64_t i = 0; i < n; ++i) {
    examples[i].prompt_ids = stored(i, false);
    examples[i].answer_ids = stored(i, true);
  }
  return true;
}

TokenCacheOutcome tokenize_with_cache(std::vector<Example>& examples,
                                      const Tokenizer& tok,
                                      const std::string& cache_dir,
                                      const std::string& key) {
  AP_CHECK_AS(ConfigError, valid_key(key), "token cache key \"", key,
              "\": must be 1-200 characters of [A-Za-z0-9._-] (use sha256_hex of its parts)");
  const std::string path = (fs::path(cache_dir) / (key + ".tok")).string();
  if (read_token_cache(path, key, examples, tok)) return TokenCacheOutcome::kHit;
  tokenize_examples(examples, tok);
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return TokenCacheOutcome::kWriteFailed;
  return write_token_cache(path, key, examples) ? TokenCacheOutcome::kWritten
                                                : TokenCacheOutcome::kWriteFailed;
}

}  // namespace apportion
