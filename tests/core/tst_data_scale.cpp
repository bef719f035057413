// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of data loading at scale: the token cache (round trip, corrupt files ignored and
// rewritten, keys and fingerprints that invalidate), batches from cached ids equal batches from
// text, and the length-bucketed sampler (each example once per epoch, deterministic, less
// padding than sample_indices).
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/data/batcher.h"
#include "core/data/length_buckets.h"
#include "core/data/rng.h"
#include "core/data/token_cache.h"
#include "core/tokenizer/builtin_byte_tokenizer.h"
#include "core/tokenizer/tokenizer.h"

using namespace apportion;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// Examples with awkward texts: Unicode, special tokens written out, empty answer, long prompt.
std::vector<Example> sample_examples(int n) {
  std::vector<Example> out;
  SplitMix64 rng(11);
  const char* words[] = {"the",     "river", "bank",    "é",  "漢字",  "😀",     "  ", "\n",
                         "answer1", "<s>",   "option2", "42", "don't", "Hello", "\t", "x"};
  for (int i = 0; i < n; ++i) {
    Example ex;
    ex.task = "t" + std::to_string(i % 3);
    ex.prompt = "Below is an instruction.\n\n### Instruction:\n";
    const int len = rng.range(0, 60);
    for (int w = 0; w < len; ++w) ex.prompt += std::string(words[rng.uniform(16)]) + " ";
    ex.prompt += "\n\n### Response:\n";
    ex.answer = i % 7 == 3 ? "" : "the correct answer is answer" + std::to_string(1 + i % 4);
    out.push_back(std::move(ex));
  }
  return out;
}

std::vector<Example> without_ids(std::vector<Example> examples) {
  for (Example& ex : examples) {
    ex.prompt_ids.clear();
    ex.answer_ids.clear();
  }
  return examples;
}

bool same_ids(const std::vector<Example>& a, const std::vector<Example>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].prompt_ids != b[i].prompt_ids || a[i].answer_ids != b[i].answer_ids) return false;
  }
  return true;
}

bool same_batch(const Batch& a, const Batch& b) {
  return torch::equal(a.input_ids, b.input_ids) &&
         torch::equal(a.attention_mask, b.attention_mask) && torch::equal(a.labels, b.labels) &&
         torch::equal(a.answer_mask, b.answer_mask) && a.tasks == b.tasks &&
         a.padding_tokens == b.padding_tokens && a.total_tokens == b.total_tokens;
}

}  // namespace

class TestDataScale : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  std::map<std::string, std::shared_ptr<const Tokenizer>> hf_;

  std::string tmpPath(const std::string& name) const {
    return tmp_.path().toStdString() + "/" + name;
  }
  std::string folder(const std::string& name) const { return tmpPath("tok-" + name); }

  /// Fresh examples tokenised without any cache (the reference ids).
  static std::vector<Example> reference(const std::vector<Example>& examples,
                                        const Tokenizer& tok) {
    std::vector<Example> out = without_ids(examples);
    for (Example& ex : out) {
      PromptAnswerIds ids = tokenize_prompt_answer(tok, ex.prompt, ex.answer);
      ex.prompt_ids = ids.prompt_ids;
      ex.answer_ids = ids.answer_ids;
    }
    return out;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    const QString data =
        qEnvironmentVariable("AP_TEST_DATA", QStringLiteral(AP_SOURCE_DIR "/tests/data"));
    for (const char* name : {"mistral", "qwen3"}) {
      const QString src = data + QStringLiteral("/tokenizers/") + QString::fromLatin1(name);
      const QString dst = QString::fromStdString(folder(name));
      QVERIFY(QDir().mkpath(dst));
      const QString cmd =
          QStringLiteral("gzip -dc '%1/tokenizer.json.gz' > '%2/tokenizer.json'").arg(src, dst);
      QCOMPARE(std::system(cmd.toLocal8Bit().constData()), 0);
      QVERIFY(QFile::copy(src + QStringLiteral("/tokenizer_config.json"),
                          dst + QStringLiteral("/tokenizer_config.json")));
      hf_[name] = load_tokenizer(dst.toStdString());
    }
    hf_["byte"] = std::make_shared<tok::BuiltinByteTokenizer>();
  }

  void sha256_helpers() {
    QCOMPARE(sha256_hex("abc"),
             std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    QCOMPARE(sha256_hex(""),
             std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    write_bytes(tmpPath("abc.txt"), "abc");
    QCOMPARE(sha256_hex_of_file(tmpPath("abc.txt")), sha256_hex("abc"));
    QVERIFY_THROWS_EXCEPTION(DataError, sha256_hex_of_file(tmpPath("missing.txt")));
  }

  void tokenizer_fingerprints() {
    QCOMPARE(tokenizer_fingerprint(""), std::string("builtin-byte"));
    fs::create_directories(tmpPath("empty"));
    QCOMPARE(tokenizer_fingerprint(tmpPath("empty")), std::string("builtin-byte"));
    const std::string mistral = tokenizer_fingerprint(folder("mistral"));
    QCOMPARE(mistral.size(), size_t{64});
    QCOMPARE(tokenizer_fingerprint(folder("mistral")), mistral);  // stable
    QVERIFY(tokenizer_fingerprint(folder("qwen3")) != mistral);
    // Any tokenizer file changes it: a copy with another tokenizer_config.json.
    const std::string copy = tmpPath("mistral-copy");
    fs::create_directories(copy);
    fs::copy_file(folder("mistral") + "/tokenizer.json", copy + "/tokenizer.json");
    fs::copy_file(folder("mistral") + "/tokenizer_config.json", copy + "/tokenizer_config.json");
    QCOMPARE(tokenizer_fingerprint(copy), mistral);
    write_bytes(copy + "/tokenizer_config.json", R"({"add_bos_token": false})");
    QVERIFY(tokenizer_fingerprint(copy) != mistral);
    write_bytes(copy + "/special_tokens_map.json", "{}");
    const std::string with_map = tokenizer_fingerprint(copy);
    fs::remove(copy + "/special_tokens_map.json");
    QVERIFY(tokenizer_fingerprint(copy) != with_map);
  }

  void cache_round_trip_data() {
    QTest::addColumn<QByteArray>("name");
    for (const char* name : {"mistral", "qwen3", "byte"}) QTest::newRow(name) << QByteArray(name);
  }

  /// Written once, then read back: the same ids as fresh tokenisation, for every tokenizer.
  void cache_round_trip() {
    QFETCH(QByteArray, name);
    const Tokenizer& tok = *hf_.at(name.toStdString());
    const std::vector<Example> texts = sample_examples(300);
    const std::vector<Example> expected = reference(texts, tok);
    const std::string dir = tmpPath("cache-" + name.toStdString());
    std::vector<Example> cold = texts;
    QCOMPARE(tokenize_with_cache(cold, tok, dir, "k1"), TokenCacheOutcome::kWritten);
    QVERIFY(same_ids(cold, expected));
    QVERIFY(fs::exists(dir + "/k1.tok"));
    QVERIFY(!fs::exists(dir + "/k1.tok.tmp." + std::to_string(::getpid())));
    std::vector<Example> warm = texts;
    QCOMPARE(tokenize_with_cache(warm, tok, dir, "k1"), TokenCacheOutcome::kHit);
    QVERIFY(same_ids(warm, expected));
    // Multi-threaded tokenisation gives the same ids as one thread.
    std::vector<Example> one = texts, four = texts;
    tokenize_examples(one, tok, 1);
    tokenize_examples(four, tok, 4);
    QVERIFY(same_ids(one, expected));
    QVERIFY(same_ids(four, expected));
    // Empty data set: a valid (empty) cache.
    std::vector<Example> none;
    QCOMPARE(tokenize_with_cache(none, tok, dir, "empty"), TokenCacheOutcome::kWritten);
    QCOMPARE(tokenize_with_cache(none, tok, dir, "empty"), TokenCacheOutcome::kHit);
  }

  void corrupt_cache_is_rewritten_data() {
    QTest::addColumn<QString>("damage");
    for (const char* d :
         {"truncated-header", "truncated-payload", "one-byte-short", "extra-byte", "flip-magic",
          "flip-version", "flip-count", "flip-text-hash", "flip-payload-hash", "flip-key",
          "flip-length", "flip-first-id", "flip-last-id", "empty", "garbage"}) {
      QTest::newRow(d) << QString::fromLatin1(d);
    }
  }

  /// A damaged file is never used: the ids are re-tokenised and the file rewritten as new.
  void corrupt_cache_is_rewritten() {
    QFETCH(QString, damage);
    const Tokenizer& tok = *hf_.at("mistral");
    const std::vector<Example> texts = sample_examples(50);
    const std::vector<Example> expected = reference(texts, tok);
    const std::string dir = tmpPath("corrupt-" + damage.toStdString());
    std::vector<Example> first = texts;
    QCOMPARE(tokenize_with_cache(first, tok, dir, "key"), TokenCacheOutcome::kWritten);
    const std::string path = dir + "/key.tok";
    const std::string good = read_bytes(path);
    QVERIFY(good.size() > 200);
    std::string bad = good;
    const auto flip = [&](size_t at) { bad[at] = static_cast<char>(bad[at] ^ 0x5A); };
    const std::string d = damage.toStdString();
    if (d == "truncated-header") bad.resize(40);
    if (d == "truncated-payload") bad.resize(good.size() / 2);
    if (d == "one-byte-short") bad.pop_back();
    if (d == "extra-byte") bad.push_back('\0');
    if (d == "flip-magic") bad[0] = 'X';
    if (d == "flip-version") flip(8);
    if (d == "flip-count") flip(16);
    if (d == "flip-text-hash") flip(40);
    if (d == "flip-payload-hash") flip(70);
    if (d == "flip-key") flip(100);
    if (d == "flip-length") flip(103 + 8);
    if (d == "flip-first-id") flip(103 + 8 * 50 + 1);
    if (d == "flip-last-id") flip(good.size() - 4);
    if (d == "empty") bad.clear();
    if (d == "garbage") bad = std::string(good.size(), '\x7f');
    QVERIFY(bad != good);
    write_bytes(path, bad);
    std::vector<Example> again = texts;
    QCOMPARE(tokenize_with_cache(again, tok, dir, "key"), TokenCacheOutcome::kWritten);
    QVERIFY(same_ids(again, expected));
    QCOMPARE(read_bytes(path), good);  // rewritten, byte for byte
    std::vector<Example> warm = texts;
    QCOMPARE(tokenize_with_cache(warm, tok, dir, "key"), TokenCacheOutcome::kHit);
    QVERIFY(same_ids(warm, expected));
  }

  /// Other texts or another tokenizer under the same key never get the stored ids.
  void stale_key_is_detected() {
    const Tokenizer& mistral = *hf_.at("mistral");
    const Tokenizer& qwen = *hf_.at("qwen3");
    const std::string dir = tmpPath("stale");
    const std::vector<Example> texts = sample_examples(40);
    std::vector<Example> a = texts;
    QCOMPARE(tokenize_with_cache(a, mistral, dir, "same"), TokenCacheOutcome::kWritten);
    // One character of one answer changed.
    std::vector<Example> edited = texts;
    edited[17].answer += "!";
    QCOMPARE(tokenize_with_cache(edited, mistral, dir, "same"), TokenCacheOutcome::kWritten);
    QVERIFY(same_ids(edited, reference(edited, mistral)));
    // A prompt/answer boundary moved (same concatenated text).
    std::vector<Example> moved = edited;
    QVERIFY(moved[4].answer.size() > 3);
    moved[4].prompt += moved[4].answer.substr(0, 3);
    moved[4].answer.erase(0, 3);
    QCOMPARE(tokenize_with_cache(moved, mistral, dir, "same"), TokenCacheOutcome::kWritten);
    QVERIFY(same_ids(moved, reference(moved, mistral)));
    // Fewer examples.
    std::vector<Example> fewer(moved.begin(), moved.end() - 1);
    QCOMPARE(tokenize_with_cache(fewer, mistral, dir, "same"), TokenCacheOutcome::kWritten);
    // Another tokenizer, same texts and key: the spot check re-tokenises and disagrees.
    std::vector<Example> other = fewer;
    QCOMPARE(tokenize_with_cache(other, qwen, dir, "same"), TokenCacheOutcome::kWritten);
    QVERIFY(same_ids(other, reference(fewer, qwen)));
    // A file renamed to another key is not accepted under that key.
    fs::copy_file(dir + "/same.tok", dir + "/renamed.tok");
    std::vector<Example> renamed = fewer;
    QCOMPARE(tokenize_with_cache(renamed, qwen, dir, "renamed"), TokenCacheOutcome::kWritten);
    // Keys are file-name safe.
    std::vector<Example> x = fewer;
    QVERIFY_THROWS_EXCEPTION(ConfigError, tokenize_with_cache(x, qwen, dir, "../escape"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, tokenize_with_cache(x, qwen, dir, ""));
  }

  void unwritable_cache_still_tokenises() {
    const Tokenizer& tok = *hf_.at("mistral");
    write_bytes(tmpPath("a-file"), "x");
    std::vector<Example> ex = sample_examples(10);
    QCOMPARE(tokenize_with_cache(ex, tok, tmpPath("a-file") + "/sub", "k"),
             TokenCacheOutcome::kWriteFailed);
    QVERIFY(same_ids(ex, reference(ex, tok)));
  }

  void batches_from_ids_equal_batches_from_text_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<int>("max_len");
    QTest::addColumn<bool>("train_on_inputs");
    QTest::addColumn<bool>("add_eos");
    for (const char* name : {"mistral", "qwen3", "byte"}) {
      for (int max_len : {512, 24, 3}) {
        for (bool inputs : {false, true}) {
          for (bool eos : {true, false}) {
            const std::string row = std::string(name) + "/" + std::to_string(max_len) +
                                    (inputs ? "/inputs" : "") + (eos ? "/eos" : "");
            QTest::newRow(row.c_str()) << QByteArray(name) << max_len << inputs << eos;
          }
        }
      }
    }
  }

  void batches_from_ids_equal_batches_from_text() {
    QFETCH(QByteArray, name);
    QFETCH(int, max_len);
    QFETCH(bool, train_on_inputs);
    QFETCH(bool, add_eos);
    const auto tok = hf_.at(name.toStdString());
    const Batcher batcher(tok, max_len, train_on_inputs, add_eos);
    const std::vector<Example> texts = sample_examples(24);
    const std::vector<Example> ids = reference(texts, *tok);
    for (size_t from = 0; from < texts.size(); from += 8) {
      std::vector<const Example*> a, b;
      for (size_t i = from; i < from + 8; ++i) {
        a.push_back(&texts[i]);
        b.push_back(&ids[i]);
      }
      const Batch from_text = batcher.make_batch(a);
      const Batch from_ids = batcher.make_batch(b);
      QVERIFY(same_batch(from_text, from_ids));
      QCOMPARE(from_ids.total_tokens, from_ids.input_ids.numel());
      QCOMPARE(from_ids.padding_tokens, (from_ids.attention_mask == 0).sum().item<int64_t>());
    }
  }

  void text_batch_reports_padding() {
    const Batcher batcher(16, false);
    const std::string a = "abc", b = "abcdefgh";
    const Batch batch = batcher.make_text_batch({&a, &b});
    QCOMPARE(batch.total_tokens, batch.input_ids.numel());
    QCOMPARE(batch.padding_tokens, (batch.attention_mask == 0).sum().item<int64_t>());
    QVERIFY(batch.padding_tokens > 0);
  }

  void sampler_covers_each_example_once_per_epoch_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("accum");
    QTest::newRow("ragged") << 1000 << 16 << 3;
    QTest::newRow("aligned") << 1600 << 16 << 2;
    QTest::newRow("several chunks") << 5003 << 8 << 1;
    QTest::newRow("smaller than a batch") << 5 << 16 << 2;
    QTest::newRow("one") << 1 << 4 << 1;
  }

  /// Global samples [e*n, (e+1)*n) are a permutation of [0, n): sample_indices' epochs.
  void sampler_covers_each_example_once_per_epoch() {
    QFETCH(int, n);
    QFETCH(int, batch);
    QFETCH(int, accum);
    std::vector<int32_t> lengths(static_cast<size_t>(n));
    SplitMix64 rng(5);
    for (int32_t& l : lengths) l = 10 + static_cast<int32_t>(rng.uniform(200));
    const LengthBucketSampler sampler(lengths, batch, accum, 42);
    const int64_t epochs = 4;
    std::vector<int64_t> stream;
    for (int64_t step = 0; static_cast<int64_t>(stream.size()) < epochs * n; ++step) {
      for (int micro = 0; micro < accum; ++micro) {
        const std::vector<int64_t> idx = sampler.indices(step, micro);
        QCOMPARE(idx.size(), static_cast<size_t>(batch));
        stream.insert(stream.end(), idx.begin(), idx.end());
      }
    }
    for (int64_t e = 0; e < epochs; ++e) {
      std::vector<int64_t> epoch(stream.begin() + e * n, stream.begin() + (e + 1) * n);
      std::sort(epoch.begin(), epoch.end());
      for (int64_t i = 0; i < n; ++i) QCOMPARE(epoch[static_cast<size_t>(i)], i);
    }
    // Consecutive epochs differ (for n > 1).
    if (n > 16) QVERIFY(sampler.epoch_order(0) != sampler.epoch_order(1));
  }

  /// Two samplers (a resumed run) give the same batches whatever order they are asked in.
  void sampler_is_deterministic() {
    std::vector<int32_t> lengths(3000);
    SplitMix64 rng(9);
    for (int32_t& l : lengths) l = static_cast<int32_t>(rng.uniform(300));
    const LengthBucketSampler a(lengths, 16, 4, 1234);
    const LengthBucketSampler b(lengths, 16, 4, 1234);
    const LengthBucketSampler c(lengths, 16, 4, 1235);
    std::vector<std::vector<int64_t>> forward;
    for (int64_t step = 0; step < 150; ++step) {
      for (int micro = 0; micro < 4; ++micro) forward.push_back(a.indices(step, micro));
    }
    bool differs = false;
    for (int64_t step = 149; step >= 0; --step) {
      for (int micro = 3; micro >= 0; --micro) {
        const auto got = b.indices(step, micro);
        QCOMPARE(got, forward[static_cast<size_t>(step * 4 + micro)]);
        differs = differs || c.indices(step, micro) != got;
      }
    }
    QVERIFY(differs);  // the seed matters
    QVERIFY_THROWS_EXCEPTION(std::exception, a.indices(0, 4));
    QVERIFY_THROWS_EXCEPTION(std::exception, LengthBucketSampler({}, 16, 1, 0));
  }

  /// On a long-tailed length distribution, bucketing removes most of the padding.
  void sampler_reduces_padding() {
    const int n = 20000, batch = 16, accum = 2;
    std::vector<int32_t> lengths(n);
    SplitMix64 rng(3);
    for (int32_t& l : lengths) {
      // Log-uniform in [30, 600) tokens, like instruction data with a few long passages.
      const double u = static_cast<double>(rng.uniform(1u << 30)) / (1u << 30);
      l = static_cast<int32_t>(30.0 * std::pow(20.0, u));
    }
    const LengthBucketSampler sampler(lengths, batch, accum, 7);
    PaddingCount random, bucketed;
    for (int64_t step = 0; step < 500; ++step) {
      for (int micro = 0; micro < accum; ++micro) {
        random += count_padding(lengths, sample_indices(n, batch, 7, step, micro, accum), 0);
        bucketed += count_padding(lengths, sampler.indices(step, micro), 0);
      }
    }
    qInfo("padding fraction: sample_indices %.3f, LengthBucketSampler %.3f", random.fraction(),
          bucketed.fraction());
    QVERIFY(random.fraction() > 0.4);
    QVERIFY(bucketed.fraction() < 0.05);
    QVERIFY(bucketed.fraction() < random.fraction() / 5);
  }

  void token_lengths_need_ids() {
    std::vector<Example> ex = sample_examples(3);
    QVERIFY_THROWS_EXCEPTION(DataError, token_lengths(ex, true));
    tokenize_examples(ex, *hf_.at("mistral"));
    const std::vector<int32_t> l = token_lengths(ex, true);
    QCOMPARE(l[0], static_cast<int32_t>(ex[0].prompt_ids.size() + ex[0].answer_ids.size() + 1));
    const PaddingCount p = count_padding({3, 5, 10}, {0, 1, 2}, 6);  // capped at 6
    QCOMPARE(p.total, int64_t{18});
    QCOMPARE(p.padding, int64_t{18 - 3 - 5 - 6});
  }
};

QTEST_APPLESS_MAIN(TestDataScale)
#include "tst_data_scale.moc"
