// SPDX-License-Identifier: GPL-3.0-or-later
// Tokenizer tests: Hugging Face goldens (tests/data/tokenizers/, made by @huggingface/tokenizers
// for LLaMA-3, Mistral and Qwen3 files), a spm_encode golden for a tiny tokenizer.model, tiny
// hand-worked BPE tokenizers, malformed files (messages must name file and field), the byte
// tokenizer, invalid UTF-8 and a 1 MB speed check.
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/tokenizer/tokenizer.h"

using namespace apportion;
using Ids = std::vector<int64_t>;
using nlohmann::json;

namespace {

std::string dataDir() {
  return qEnvironmentVariable("AP_TEST_DATA", QStringLiteral(AP_SOURCE_DIR "/tests/data"))
             .toStdString() +
         "/tokenizers";
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

bool gunzip(const std::string& from, const std::string& to) {
  gzFile in = gzopen(from.c_str(), "rb");
  if (in == nullptr) return false;
  std::ofstream out(to, std::ios::binary);
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(in, buffer, sizeof(buffer))) > 0) out.write(buffer, n);
  const bool ok = n == 0;
  gzclose(in);
  return ok && out.good();
}

std::string show(const Ids& ids) { return json(ids).dump(); }

/// Message of the TokenizerError that `f` throws ("" when it throws none).
template <typename F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const TokenizerError& e) {
    return e.what();
  }
  return "";
}

/// A tiny byte-level BPE tokenizer worked by hand (see handWorkedByteLevel).
json tinyByteLevel() {
  const std::vector<std::string> tokens = {
      "h",  "e",  "l",    "o",     "\xC4\xA0",  "w",  "r",           "d",
      "he", "ll", "hell", "hello", "\xC4\xA0w", "or", "\xC4\xA0wor", "ld"};
  json vocab = json::object();
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  const json merges = json::array({{"h", "e"},
                                   {"l", "l"},
                                   {"he", "ll"},
                                   {"hell", "o"},
                                   {"\xC4\xA0", "w"},
                                   {"o", "r"},
                                   {"\xC4\xA0w", "or"},
                                   {"l", "d"}});
  auto added = [](int id, const char* content, bool special, bool single, bool strip) {
    return json{{"id", id},          {"content", content}, {"single_word", single},
                {"lstrip", strip},   {"rstrip", strip},    {"normalized", false},
                {"special", special}};
  };
  return json{
      {"version", "1.0"},
      {"added_tokens",
       json::array({added(16, "<s>", true, false, false), added(17, "<tool>", false, false, false),
                    added(18, "[X]", true, false, true), added(19, "wor", true, true, false)})},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", json::array()},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {16}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", false}}}};
}

/// A tiny SentencePiece-style BPE tokenizer.json (LLaMA-2 layout) with byte fallback.
json tinySentencePiece() {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  const std::string mark = "\xE2\x96\x81";  // ▁
  vocab[mark] = 259, vocab["a"] = 260, vocab["b"] = 261;
  vocab[mark + "a"] = 262, vocab["ab"] = 263, vocab[mark + "ab"] = 264;
  auto special = [](int id, const char* content) {
    return json{{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
                {"rstrip", false}, {"normalized", false}, {"special", true}};
  };
  return json{{"added_tokens", {special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")}},
              {"normalizer",
               {{"type", "Sequence"},
                {"normalizers",
                 {{{"type", "Prepend"}, {"prepend", mark}},
                  {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", mark}}}}}},
              {"pre_tokenizer", nullptr},
              {"post_processor",
               {{"type", "TemplateProcessing"},
                {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
              {"decoder",
               {{"type", "Sequence"},
                {"decoders",
                 {{{"type", "Replace"}, {"pattern", {{"String", mark}}}, {"content", " "}},
                  {{"type", "ByteFallback"}},
                  {{"type", "Fuse"}},
                  {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
              {"model",
               {{"type", "BPE"},
                {"unk_token", "<unk>"},
                {"fuse_unk", true},
                {"byte_fallback", true},
                {"vocab", vocab},
                {"merges", {mark + " a", "a b", mark + "a b"}}}}};
}

}  // namespace

class TestTokenizer : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  std::map<std::string, std::unique_ptr<Tokenizer>> hf_;  // golden tokenizers by folder name

  std::string tmpPath(const std::string& name) const {
    return tmp_.path().toStdString() + "/" + name;
  }
  /// A folder holding `tokenizer_json` (and optionally config.json).
  std::string folderWith(const std::string& name,
                         const std::string& tokenizer_json,
                         const std::string& config_json = "") {
    const std::string dir = tmpPath(name);
    std::filesystem::create_directories(dir);
    if (!tokenizer_json.empty()) writeFile(dir + "/tokenizer.json", tokenizer_json);
    if (!config_json.empty()) writeFile(dir + "/config.json", config_json);
    return dir;
  }
  static std::unique_ptr<Tokenizer> load(const std::string& dir) { return load_tokenizer(dir); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    for (const std::string name : {"llama3", "mistral", "qwen3"}) {
      const std::string src = dataDir() + "/" + name, dst = tmpPath(name);
      QVERIFY(std::filesystem::create_directories(dst));
      QVERIFY2(gunzip(src + "/tokenizer.json.gz", dst + "/tokenizer.json"),
               ("cannot decompress " + src + "/tokenizer.json.gz").c_str());
      std::filesystem::copy_file(src + "/tokenizer_config.json", dst + "/tokenizer_config.json");
      hf_[name] = load(dst);
    }
  }

  void goldens_data() {
    QTest::addColumn<QByteArray>("name");
    for (const char* name : {"llama3", "mistral", "qwen3"}) {
      QTest::newRow(name) << QByteArray(name);
    }
  }

  /// Every golden string: ids with and without special tokens, decode with and without them.
  void goldens() {
    QFETCH(QByteArray, name);
    const Tokenizer& tok = *hf_.at(name.toStdString());
    std::ifstream in(dataDir() + "/" + name.toStdString() + "/goldens.jsonl");
    std::string line;
    int rows = 0, failures = 0;
    while (std::getline(in, line)) {
      const json g = json::parse(line);
      const std::string text = g["text"];
      ++rows;
      std::vector<std::string> problems;
      const Ids ids = tok.encode(text, true), plain = tok.encode(text, false);
      if (ids != g["ids"].get<Ids>()) problems.push_back("ids " + show(ids));
      if (plain != g["ids_no_special"].get<Ids>()) problems.push_back("no-special " + show(plain));
      const Ids golden_ids = g["ids"];
      const std::string decoded = tok.decode(golden_ids, false);
      const std::string skipped = tok.decode(golden_ids, true);
      if (decoded != g["decoded"]) problems.push_back("decoded " + json(decoded).dump());
      if (skipped != g["decoded_skip_special"]) problems.push_back("skip " + json(skipped).dump());
      if (!problems.empty() && ++failures <= 8) {
        std::string message = json(text).dump() + " golden " + g["ids"].dump() + ":";
        for (const auto& p : problems) message += " " + p;
        qWarning("%s", message.c_str());
      }
    }
    QVERIFY2(rows >= 300, ("only " + std::to_string(rows) + " golden rows").c_str());
    QCOMPARE(failures, 0);
  }

  void specialIds() {
    const Tokenizer& llama3 = *hf_.at("llama3");
    QCOMPARE(llama3.kind(), std::string("bpe-bytelevel"));
    QCOMPARE(llama3.vocab_size(), int64_t{128256});
    QCOMPARE(llama3.bos_id(), std::optional<int64_t>(128000));
    QCOMPARE(llama3.eos_id(), std::optional<int64_t>(128001));
    QCOMPARE(llama3.token_to_id("<|eot_id|>"), std::optional<int64_t>(128009));
    QCOMPARE(llama3.id_to_token(9906), std::optional<std::string>("Hello"));
    const Tokenizer& mistral = *hf_.at("mistral");
    QCOMPARE(mistral.kind(), std::string("bpe-sentencepiece"));
    QCOMPARE(mistral.vocab_size(), int64_t{32000});
    QCOMPARE(mistral.bos_id(), std::optional<int64_t>(1));
    QCOMPARE(mistral.eos_id(), std::optional<int64_t>(2));
    const Tokenizer& qwen = *hf_.at("qwen3");
    QCOMPARE(qwen.bos_id(), std::optional<int64_t>());
    QCOMPARE(qwen.eos_id(), qwen.token_to_id("<|im_end|>"));
    QCOMPARE(qwen.pad_id(), qwen.token_to_id("<|endoftext|>").value_or(-1));
    QCOMPARE(qwen.encode("", true), Ids{});
  }

  /// Ill-formed UTF-8 is repaired to U+FFFD before encoding (documented choice).
  void invalidUtf8() {
    const Tokenizer& tok = *hf_.at("llama3");
    QCOMPARE(tok.encode("a\xFF"
                        "b\xE2\x82",
                        false),
             tok.encode("a\xEF\xBF\xBD"
                        "b\xEF\xBF\xBD",
                        false));
    QCOMPARE(tok.encode("\xC0\x80", false), tok.encode("\xEF\xBF\xBD\xEF\xBF\xBD", false));
    QVERIFY(!errorOf([&] { tok.decode({99999999}, false); }).empty());
  }

  /// 1 MB of pseudo-random words (few cache hits), digits, CJK and emoji, in well under 1 s.
  void megabyteIsFast() {
    const Tokenizer& tok = *hf_.at("llama3");
    std::mt19937 rng(7);
    const char* extras[] = {"\xE6\x9D\xB1", "\xED\x95\x9C", "\xC3\xA9", "\xF0\x9F\x98\x80"};
    std::string text;
    while (text.size() < (1u << 20)) {
      if (rng() % 10 == 0) text += extras[rng() % 4];
      for (unsigned i = 0, n = 1 + rng() % 12; i < n; ++i)
        text += static_cast<char>('a' + rng() % 26);
      text += rng() % 15 == 0 ? "\n" : rng() % 10 == 0 ? ", " : " ";
      if (rng() % 20 == 0) text += std::to_string(rng());
    }
    QElapsedTimer timer;
    timer.start();
    const Ids ids = tok.encode(text, false);
    const qint64 ms = timer.elapsed();
    qInfo("encoded %zu bytes into %zu ids in %lld ms", text.size(), ids.size(), ms);
    QVERIFY(ids.size() > 200000);
    QVERIFY2(ms < 2000, ("1 MB took " + std::to_string(ms) + " ms").c_str());
    QCOMPARE(tok.decode(ids, false), text);
  }

  /// Merges worked by hand: "hello" h e l l o -(0)-> he l l o -(1)-> he ll o -(2)-> hell o
  /// -(3)-> hello; " world" Ġ w o r l d -(4)-> Ġw o r l d -(5)-> Ġw or l d -(6)-> Ġwor l d
  /// -(7)-> Ġwor ld.
  void handWorkedByteLevel() {
    auto tok = load(folderWith("tiny-bytelevel", tinyByteLevel().dump()));
    QCOMPARE(tok->encode("hello world", false), (Ids{11, 14, 15}));
    QCOMPARE(tok->encode("hello world", true), (Ids{16, 11, 14, 15}));
    QCOMPARE(tok->encode("world", false), (Ids{5, 13, 15}));  // w or ld
    QCOMPARE(tok->encode("lll", false), (Ids{9, 2}));         // leftmost "l l" first
    QCOMPARE(tok->encode("hez", false), (Ids{8}));            // no unk token: 'z' dropped
    QCOMPARE(tok->encode("hello [X] world", false), (Ids{11, 18, 5, 13, 15}));  // l/rstrip
    QCOMPARE(tok->encode("hello wor", false), (Ids{11, 4, 19}));  // single word matches
    QCOMPARE(tok->encode("world", false), (Ids{5, 13, 15}));      // not inside a word
    QCOMPARE(tok->encode("<tool><s>", true), (Ids{16, 17, 16}));
    QCOMPARE(tok->decode({16, 11, 17, 14, 15}, false), std::string("<s>hello<tool> world"));
    QCOMPARE(tok->decode({16, 11, 17, 14, 15}, true), std::string("hello<tool> world"));
    QCOMPARE(tok->kind(), std::string("bpe-bytelevel"));
    QCOMPARE(tok->vocab_size(), int64_t{20});
    QCOMPARE(tok->bos_id(), std::optional<int64_t>(16));
  }

  /// "ab é" -> "▁ab▁é": ▁ a b ▁ <0xC3> <0xA9>; "▁ a"(0) then "▁a b"(2) ("a b"(1) went stale).
  void byteFallback() {
    auto tok = load(folderWith("tiny-sp", tinySentencePiece().dump()));
    QCOMPARE(tok->encode("ab \xC3\xA9", true), (Ids{1, 264, 259, 3 + 0xC3, 3 + 0xA9}));
    QCOMPARE(tok->decode({1, 264, 259, 3 + 0xC3, 3 + 0xA9}, true), std::string("ab \xC3\xA9"));
    // An ill-formed byte run gives one U+FFFD per byte (Rust's ByteFallback, not lossy UTF-8).
    QCOMPARE(tok->decode({264, 3 + 0xE5, 3 + 0x8F, 260}, false),
             std::string("ab\xEF\xBF\xBD\xEF\xBF\xBD"
                         "a"));
    QCOMPARE(tok->encode("b<s>ab", false), (Ids{259, 261, 1, 264}));  // Prepend per stretch
    QCOMPARE(tok->kind(), std::string("bpe-sentencepiece"));

    json no_fallback = tinySentencePiece();
    no_fallback["model"]["byte_fallback"] = false;
    auto unk = load(folderWith("tiny-sp-unk", no_fallback.dump()));
    QCOMPARE(unk->encode("a\xC3\xA9\xC3\xA8", false), (Ids{262, 0}));  // fused unknowns
    no_fallback["model"]["fuse_unk"] = false;
    auto unfused = load(folderWith("tiny-sp-unfused", no_fallback.dump()));
    QCOMPARE(unfused->encode("a\xC3\xA9\xC3\xA8", false), (Ids{262, 0, 0}));

    // Newer files: Metaspace pre-tokenizer instead of the normalizer.
    json meta = tinySentencePiece();
    meta["normalizer"] = nullptr;
    meta["pre_tokenizer"] = {{"type", "Metaspace"},
                             {"replacement", "\xE2\x96\x81"},
                             {"prepend_scheme", "first"},
                             {"split", true}};
    auto first = load(folderWith("tiny-meta-first", meta.dump()));
    QCOMPARE(first->encode("ab ab", false), (Ids{264, 264}));
    QCOMPARE(first->encode("<s>ab", false), (Ids{1, 263}));  // not at the start: no ▁
    meta["pre_tokenizer"]["prepend_scheme"] = "always";
    auto always = load(folderWith("tiny-meta-always", meta.dump()));
    QCOMPARE(always->encode("<s>ab", false), (Ids{1, 264}));
  }

  /// tokenizer.model through libsentencepiece against spm_encode's ids.
  void sentencePieceModel() {
    const std::string dir = tmpPath("spm-tiny");
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(dataDir() + "/spm-tiny/tokenizer.model", dir + "/tokenizer.model");
    auto tok = load(dir);
    QCOMPARE(tok->kind(), std::string("sentencepiece-model"));
    std::ifstream in(dataDir() + "/spm-tiny/goldens.jsonl");
    std::string line;
    int rows = 0, failures = 0;
    while (std::getline(in, line)) {
      const json g = json::parse(line);
      const std::string text = g["text"];
      const Ids golden = g["ids"];
      Ids with_bos = golden;
      with_bos.insert(with_bos.begin(), *tok->bos_id());
      ++rows;
      const bool ok = tok->encode(text, false) == golden && tok->encode(text, true) == with_bos &&
                      tok->decode(with_bos, true) == text;
      if (!ok && ++failures <= 5) {
        qWarning("%s: got %s", line.c_str(), show(tok->encode(text, false)).c_str());
      }
    }
    QVERIFY(rows >= 200);
    QCOMPARE(failures, 0);
    const Ids ids = tok->encode("Hello</s>", false);
    QCOMPARE(ids.back(), *tok->eos_id());
    QCOMPARE(tok->decode(ids, false), std::string("Hello</s>"));
  }

  void byteTokenizer() {
    auto tok =
        load(folderWith("byte", "", R"({"apportion_tokenizer": "byte", "vocab_size": 259})"));
    QCOMPARE(tok->kind(), std::string("byte"));
    QCOMPARE(tok->encode("h\xC3\xA9", true), (Ids{257, 104, 195, 169}));
    QCOMPARE(tok->decode({257, 104, 195, 169, 258}, true), std::string("h\xC3\xA9"));
    QCOMPARE(tok->decode({257, 104, 258}, false), std::string("<bos>h<eos>"));
    QCOMPARE(tok->pad_id(), int64_t{256});
    QVERIFY(errorOf([&] { tok->decode({259}, true); }).find("259") != std::string::npos);
    auto legacy = load(folderWith("byte-legacy", "", R"({"vocab_size": 260})"));
    QCOMPARE(legacy->kind(), std::string("byte"));
    const std::string none =
        errorOf([&] { load(folderWith("no-tokenizer", "", R"({"vocab_size": 32000})")); });
    QVERIFY2(none.find("no tokenizer.json or tokenizer.model") != std::string::npos, none.c_str());
  }

  void malformed_data() {
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QByteArray>("expected1");
    QTest::addColumn<QByteArray>("expected2");
    const std::string good = tinyByteLevel().dump();
    auto with = [](const std::function<void(json&)>& edit) {
      json j = tinyByteLevel();
      edit(j);
      return j.dump();
    };
    auto row = [](const char* tag, const std::string& text, const char* e1, const char* e2) {
      QTest::newRow(tag) << QByteArray::fromStdString(text) << QByteArray(e1) << QByteArray(e2);
    };
    row("truncated", good.substr(0, good.size() / 2), "truncated JSON", "tokenizer.json");
    row("model type", with([](json& j) { j["model"]["type"] = "WordPiece"; }),
        "model.type: unsupported \"WordPiece\"", "BPE");
    row("merge token", with([](json& j) {
          j["model"]["merges"][3] = {"hell", "z"};
        }),
        "model.merges[3]", "\"z\" is not in model.vocab");
    row("merge string", with([](json& j) { j["model"]["merges"][0] = "h e l"; }), "model.merges[0]",
        "two tokens");
    row("missing vocab", with([](json& j) { j["model"].erase("vocab"); }), "model.vocab: missing",
        "tokenizer.json");
    row("vocab id", with([](json& j) { j["model"]["vocab"]["h"] = "x"; }), "model.vocab[\"h\"]",
        "expected a token id");
    row("pre-tokenizer", with([](json& j) { j["pre_tokenizer"]["type"] = "Bogus"; }),
        "pre_tokenizer.type: unsupported \"Bogus\"", "Split");
    row("regex", with([](json& j) {
          j["pre_tokenizer"] = {
              {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
        }),
        "pre_tokenizer.pattern.Regex: regex error", "tokenizer.json");
    row("normalizer", with([](json& j) {
          j["normalizer"] = {{"type", "Precompiled"}};
        }),
        "normalizer.type: unsupported \"Precompiled\"", "NFC");
    row("decoder", with([](json& j) {
          j["decoder"] = {{"type", "CTC"}};
        }),
        "decoder.type: unsupported \"CTC\"", "ByteLevel");
    row("template", with([](json& j) { j["post_processor"]["special_tokens"] = json::object(); }),
        "post_processor.special_tokens", "<s>");
    row("unk token", with([](json& j) { j["model"]["unk_token"] = "<unk>"; }), "model.unk_token",
        "not in model.vocab");
    row("added token", with([](json& j) { j["added_tokens"][0].erase("content"); }),
        "added_tokens[0].content: missing", "tokenizer.json");
    row("not json", "\x01garbage", "invalid JSON", "tokenizer.json");
  }

  void malformed() {
    QFETCH(QByteArray, file);
    QFETCH(QByteArray, expected1);
    QFETCH(QByteArray, expected2);
    const std::string dir =
        folderWith(std::string("bad-") + QTest::currentDataTag(), file.toStdString());
    const std::string message = errorOf([&] { load(dir); });
    QVERIFY2(!message.empty(), "no TokenizerError");
    QVERIFY2(message.find("tokenizer.json") != std::string::npos, message.c_str());
    QVERIFY2(message.find(expected1.toStdString()) != std::string::npos, message.c_str());
    QVERIFY2(message.find(expected2.toStdString()) != std::string::npos, message.c_str());
  }

  /// Every truncation, and every field replaced by a value of another type, loads or gives a
  /// TokenizerError: never a crash or another exception.
  void neverCrashesOnBadFiles() {
    const std::string good = tinyByteLevel().dump();
    const std::string dir = folderWith("mutated", good);
    for (size_t cut = 0; cut < good.size(); cut += 7) {
      writeFile(dir + "/tokenizer.json", good.substr(0, cut));
      const std::string message = errorOf([&] { load(dir); });
      QVERIFY2(message.find("tokenizer.json") != std::string::npos, std::to_string(cut).c_str());
    }
    const json original = tinyByteLevel();
    const json flat = original.flatten();
    int loaded = 0, rejected = 0;
    for (const auto& [pointer, value] : flat.items()) {
      for (const json& replacement : {json(nullptr), json(7), json(-1), json("x"), json(true)}) {
        json mutated = flat;
        mutated[pointer] = replacement;
        writeFile(dir + "/tokenizer.json", mutated.unflatten().dump());
        try {
          auto tok = load(dir);
          tok->decode(tok->encode("hello [X] world<s>", true), false);
          ++loaded;
        } catch (const TokenizerError&) {
          ++rejected;
        } catch (const std::exception& e) {
          QFAIL((pointer + " = " + replacement.dump() + ": " + e.what()).c_str());
        }
      }
    }
    qInfo("%d mutated files loaded, %d rejected with TokenizerError", loaded, rejected);
    QVERIFY(rejected > 100);
  }

  void malformedModelAndConfig() {
    const std::string dir = tmpPath("bad-model");
    std::filesystem::create_directories(dir);
    writeFile(dir + "/tokenizer.model", "not a protobuf at all");
    std::string message = errorOf([&] { load(dir); });
    QVERIFY2(message.find("tokenizer.model") != std::string::npos, message.c_str());
    message = errorOf([&] { load(folderWith("bad-config", "", "{\"vocab_size\": 259")); });
    QVERIFY2(message.find("config.json") != std::string::npos &&
                 message.find("truncated") != std::string::npos,
             message.c_str());
    message = errorOf([&] { load(folderWith("bad-kind", "", R"({"apportion_tokenizer": "x"})")); });
    QVERIFY2(message.find("apportion_tokenizer") != std::string::npos, message.c_str());
    message = errorOf([&] { load(tmpPath("does-not-exist")); });
    QVERIFY2(message.find("not a folder") != std::string::npos, message.c_str());
  }
};

QTEST_APPLESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
