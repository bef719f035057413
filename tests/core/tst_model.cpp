// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the LLaMA backbone (shapes, causality, padding, HF key names, save/load round trip)
// and of the safetensors reader/writer, including malformed files (truncated, bad header, bad
// dtype, bad offsets): every failure must be an exception naming the file and tensor.
// Legend: B batch, T time, V vocab.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/adapters/lora_adapter.h"
#include "core/common/error.h"
#include "core/model/transformer_lm.h"
#include "core/tensor/safetensors.h"
#include "tests/core/test_util.h"

using namespace apportion;
using nlohmann::json;

namespace {

/// Runs f; returns the message of the apportion::Error it throws, or "<no throw>".
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<wrong exception type> ") + e.what();
  }
  return "<no throw>";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A safetensors file from a raw header text and a data section.
std::string make_file(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

torch::Tensor random_ids(int64_t b, int64_t t, int64_t vocab) {
  return torch::randint(/*low=*/3, vocab, {b, t}, torch::kInt64);
}

}  // namespace

class TestModel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    torch::manual_seed(0);
    torch::set_num_threads(1);
    QVERIFY(dir_.isValid());
  }

  void forward_shapes_and_hf_keys() {
    auto cfg = test::tiny_llama_config();
    TransformerLM model(cfg);
    auto logits = model->forward(random_ids(2, 5, cfg.vocab_size));
    QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{2, 5, cfg.vocab_size}));
    auto params = model->named_parameters();
    for (const char* key :
         {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
          "model.layers.1.self_attn.k_proj.weight", "model.layers.1.self_attn.v_proj.weight",
          "model.layers.0.self_attn.o_proj.weight", "model.layers.1.mlp.gate_proj.weight",
          "model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.down_proj.weight",
          "model.layers.0.input_layernorm.weight", "model.layers.1.post_attention_layernorm.weight",
          "model.norm.weight", "lm_head.weight"}) {
      QVERIFY2(params.contains(key), key);
    }
    QCOMPARE(static_cast<int>(params.size()), 1 + 2 * 9 + 1 + 1);
    QCOMPARE(params["model.layers.0.self_attn.k_proj.weight"].sizes().vec(),
             (std::vector<int64_t>{16, 32}));  // GQA: 2 kv heads × D 8
    QCOMPARE(static_cast<int>(model->projections().size()), 2 * 7);
    QCOMPARE(model->projections()[3].name, std::string("model.layers.0.self_attn.o_proj"));

    cfg.tie_word_embeddings = true;
    TransformerLM tied(cfg);
    QVERIFY(!tied->named_parameters().contains("lm_head.weight"));
    QCOMPARE(tied->forward(random_ids(1, 3, cfg.vocab_size)).size(2), int64_t{64});
  }

  void rms_norm_matches_formula() {
    RMSNorm norm(8, 1e-5);
    {
      torch::NoGradGuard no_grad;
      norm->weight.uniform_(0.5, 1.5);
    }
    auto x = torch::randn({3, 8});
    auto expected = x * torch::rsqrt(x.pow(2).mean(-1, true) + 1e-5) * norm->weight;
    QVERIFY(test::check_close(norm(x), expected, 1e-6, "rmsnorm"));
  }

  void causal_property() {
    auto cfg = test::tiny_llama_config();
    TransformerLM model(cfg);
    model->eval();
    auto ids = random_ids(2, 8, cfg.vocab_size);
    auto ids2 = ids.clone();
    ids2.index_put_({torch::indexing::Slice(), 5}, (ids.select(1, 5) + 7) % cfg.vocab_size);
    torch::NoGradGuard no_grad;
    auto a = model->forward(ids), b = model->forward(ids2);
    QVERIFY(test::check_close(a.narrow(1, 0, 5), b.narrow(1, 0, 5), 1e-6, "causal prefix"));
    QVERIFY(!torch::allclose(a.narrow(1, 5, 3), b.narrow(1, 5, 3)));
  }

  void right_padding_matches_unpadded() {
    auto cfg = test::tiny_llama_config();
    TransformerLM model(cfg);
    torch::NoGradGuard no_grad;
    auto ids = random_ids(3, 7, cfg.vocab_size);
    auto mask = torch::ones({3, 7}, torch::kInt64);
    mask.index_put_({1, torch::indexing::Slice(4, 7)}, 0);
    ids.index_put_({1, torch::indexing::Slice(4, 7)}, cfg.pad_token_id);
    mask.index_put_({2}, 0);  // an all-padding row must not produce NaN
    auto batch = model->forward(ids, mask);
    QVERIFY(!batch.isnan().any().item<bool>());
    auto single = model->forward(ids.narrow(0, 1, 1).narrow(1, 0, 4));
    QVERIFY(test::check_close(batch.narrow(0, 1, 1).narrow(1, 0, 4), single, 1e-5, "padded row"));
    auto full = model->forward(ids.narrow(0, 0, 1));
    QVERIFY(test::check_close(batch.narrow(0, 0, 1), full, 1e-5, "unpadded row"));
  }

  void save_load_round_trip() {
    for (bool tied : {false, true}) {
      auto cfg = test::tiny_llama_config();
      cfg.tie_word_embeddings = tied;
      TransformerLM model(cfg);
      model->projections()[0].linear->set_adapter(
          std::make_shared<LoraAdapterImpl>(32, 32, 4, 8.0, 0.0));
      const std::string path = sub(tied ? "rt_tied" : "rt");
      save_pretrained(model, path);
      auto file = load_safetensors(path + "/model.safetensors");
      for (const auto& [name, t] : file.tensors)
        QVERIFY2(!contains(name, ".adapter."), name.c_str());
      QCOMPARE(file.metadata["format"], std::string("pt"));
      model->projections()[0].linear->set_adapter(nullptr);
      auto loaded = load_pretrained(path);
      QCOMPARE(loaded->config().tie_word_embeddings, tied);
      torch::NoGradGuard no_grad;
      auto ids = random_ids(2, 6, cfg.vocab_size);
      QVERIFY(torch::equal(model->forward(ids), loaded->forward(ids)));
    }
  }

  void load_pretrained_converts_half_precision() {
    auto cfg = test::tiny_llama_config();
    TransformerLM model(cfg);
    const std::string path = sub("half");
    save_pretrained(model, path);
    auto file = load_safetensors(path + "/model.safetensors");
    std::map<std::string, at::Tensor> half;
    for (const auto& [name, t] : file.tensors) {
      half[name] =
          t.to(name.find("layers.0") != std::string::npos ? torch::kBFloat16 : torch::kFloat16);
    }
    save_safetensors(path + "/model.safetensors", half);
    auto loaded = load_pretrained(path);
    QVERIFY(loaded->named_parameters()["model.norm.weight"].scalar_type() == torch::kFloat32);
    torch::NoGradGuard no_grad;
    auto ids = random_ids(1, 5, cfg.vocab_size);
    QVERIFY(test::check_close(loaded->forward(ids), model->forward(ids), 2e-2, "half load"));
  }

  void load_pretrained_is_strict() {
    auto cfg = test::tiny_llama_config();
    TransformerLM model(cfg);
    const std::string path = sub("strict");
    save_pretrained(model, path);
    const std::string st = path + "/model.safetensors";
    const auto good = load_safetensors(st).tensors;
    const std::string victim = "model.layers.1.mlp.up_proj.weight";

    auto tensors = good;
    tensors.erase(victim);
    save_safetensors(st, tensors);
    auto msg = error_of([&] { load_pretrained(path); });
    QVERIFY2(contains(msg, victim) && contains(msg, path) && contains(msg, "missing"), msg.c_str());

    tensors = good;
    tensors["model.layers.9.extra.weight"] = torch::zeros({2});
    save_safetensors(st, tensors);
    msg = error_of([&] { load_pretrained(path); });
    QVERIFY2(contains(msg, "model.layers.9.extra.weight") && contains(msg, st), msg.c_str());

    tensors = good;
    tensors[victim] = torch::zeros({64, 31});
    save_safetensors(st, tensors);
    msg = error_of([&] { load_pretrained(path); });
    QVERIFY2(contains(msg, victim) && contains(msg, st) && contains(msg, "shape"), msg.c_str());

    tensors = good;
    tensors[victim] = torch::zeros({64, 32}, torch::kInt64);
    save_safetensors(st, tensors);
    msg = error_of([&] { load_pretrained(path); });
    QVERIFY2(contains(msg, victim) && contains(msg, "dtype"), msg.c_str());

    write_bytes(path + "/config.json", R"({"vocab_size": 64, "hidden_size": 30,
      "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4})");
    msg = error_of([&] { load_pretrained(path); });
    QVERIFY2(contains(msg, "config.json") && contains(msg, "hidden_size"), msg.c_str());
  }

  void token_ids_and_tokenizer_marker() {
    json j = {{"vocab_size", 260},
              {"hidden_size", 32},
              {"intermediate_size", 64},
              {"num_hidden_layers", 2},
              {"num_attention_heads", 4}};
    auto byte = ModelConfig::from_json(j, "byte");  // byte-sized: the byte tokenizer's ids
    QCOMPARE(byte.pad_token_id, 256);
    QCOMPARE(byte.eos_token_id, 258);
    QVERIFY(!byte.to_json().contains("apportion_tokenizer"));
    byte.apportion_tokenizer = "byte";
    QCOMPARE(byte.to_json()["apportion_tokenizer"].get<std::string>(), std::string("byte"));
    QCOMPARE(ModelConfig::from_json(byte.to_json(), "rt").apportion_tokenizer, std::string("byte"));
    j["vocab_size"] = 1000;  // an HF model without ids: none
    auto hf = ModelConfig::from_json(j, "hf");
    QCOMPARE(hf.pad_token_id, -1);
    QCOMPARE(hf.bos_token_id, -1);
    j["eos_token_id"] = {128001, 128009};  // Llama 3 lists several EOS ids
    j["vocab_size"] = 128256;
    auto l3 = ModelConfig::from_json(j, "l3");
    QCOMPARE(l3.eos_token_id, 128001);
    QCOMPARE(l3.eos_token_ids(), (std::vector<int>{128001, 128009}));
    QVERIFY(l3.to_json()["eos_token_id"] == json({128001, 128009}));
    j["apportion_tokenizer"] = "sentencepiece";
    auto msg = error_of([&] { ModelConfig::from_json(j, "cfg.json"); });
    QVERIFY2(contains(msg, "apportion_tokenizer"), msg.c_str());
  }

  void gradient_checkpointing_gives_the_same_gradients() {
    auto cfg = test::tiny_llama_config();
    TransformerLM model(cfg);
    auto ids = random_ids(2, 6, cfg.vocab_size);
    auto grads = [&](bool on) {
      model->zero_grad();
      model->set_gradient_checkpointing(on);
      model->forward(ids).pow(2).mean().backward();
      return model->named_parameters()["model.layers.0.self_attn.q_proj.weight"].grad().clone();
    };
    auto plain = grads(false);
    QVERIFY(test::check_close(grads(true), plain, 1e-5, "checkpointed grads"));
  }

  void llama_config_json() {
    auto cfg = test::tiny_llama_config();
    auto j = cfg.to_json();
    QCOMPARE(j["architectures"][0].get<std::string>(), std::string("LlamaForCausalLM"));
    QCOMPARE(j["model_type"].get<std::string>(), std::string("llama"));
    auto back = ModelConfig::from_json(j, "rt");
    QVERIFY(back.to_json() == j);
    QCOMPARE(back.shape().num_key_value_heads, 2);
    j["some_hf_key"] = "ignored";
    QCOMPARE(ModelConfig::from_json(j, "rt").hidden_size, 32);

    auto bad = j;
    bad.erase("num_hidden_layers");
    auto msg = error_of([&] { ModelConfig::from_json(bad, "cfg.json"); });
    QVERIFY2(contains(msg, "cfg.json") && contains(msg, "num_hidden_layers"), msg.c_str());
    bad = j;
    bad["hidden_size"] = "32";
    msg = error_of([&] { ModelConfig::from_json(bad, "cfg.json"); });
    QVERIFY2(contains(msg, "hidden_size") && contains(msg, "integer"), msg.c_str());
    bad = j;
    bad["num_key_value_heads"] = 3;
    msg = error_of([&] { ModelConfig::from_json(bad, "cfg.json"); });
    QVERIFY2(contains(msg, "num_key_value_heads"), msg.c_str());
    bad = j;
    bad["vocab_size"] = 0;
    msg = error_of([&] { ModelConfig::from_json(bad, "cfg.json"); });
    QVERIFY2(contains(msg, "vocab_size") && contains(msg, "positive"), msg.c_str());
  }

  void safetensors_round_trip() {
    std::map<std::string, at::Tensor> t = {
        {"b.f32", torch::randn({3, 4})},
        {"a.f16", torch::randn({5}).to(torch::kFloat16)},
        {"c.bf16", torch::randn({2, 2, 2}).to(torch::kBFloat16)},
        {"d.i64", torch::arange(7, torch::kInt64)},
        {"e.i32", torch::arange(3, torch::kInt32).reshape({3, 1})},
        {"f.scalar", torch::tensor(3.5f)},
        {"g.empty", torch::zeros({0, 3})},
        {"h.strided", torch::randn({4, 6}).t()},
    };
    const std::string path = sub("rt.safetensors");
    save_safetensors(path, t, {{"note", "hello"}});
    const auto bytes = read_bytes(path);
    uint64_t hlen = 0;
    std::memcpy(&hlen, bytes.data(), 8);
    QCOMPARE(hlen % 8, uint64_t{0});
    QVERIFY(bytes.find("\"a.f16\"") < bytes.find("\"b.f32\""));
    auto back = load_safetensors(path);
    QCOMPARE(back.metadata.at("note"), std::string("hello"));
    QCOMPARE(back.tensors.size(), t.size());
    for (const auto& [name, tensor] : t) {
      const auto& got = back.tensors.at(name);
      QVERIFY2(got.scalar_type() == tensor.scalar_type(), name.c_str());
      QVERIFY2(torch::equal(got, tensor), name.c_str());
    }
  }

  void safetensors_truncated() {
    const std::string path = sub("trunc_src.safetensors");
    save_safetensors(path, {{"alpha", torch::randn({4, 4})}, {"beta", torch::randn({8})}});
    const auto bytes = read_bytes(path);
    uint64_t hlen = 0;
    std::memcpy(&hlen, bytes.data(), 8);
    const std::string cut_path = sub("trunc.safetensors");
    for (size_t cut : std::vector<size_t>{0, 3, 7, 8, 9, 8 + hlen / 2, 8 + hlen - 1, 8 + hlen,
                                          8 + hlen + 10, bytes.size() - 1}) {
      write_bytes(cut_path, bytes.substr(0, cut));
      auto msg = error_of([&] { load_safetensors(cut_path); });
      const std::string label = "cut at " + std::to_string(cut) + ": " + msg;
      QVERIFY2(contains(msg, cut_path), label.c_str());
      QVERIFY2(!contains(msg, "<no throw>") && !contains(msg, "<wrong"), label.c_str());
      if (cut > 8 + hlen) {
        QVERIFY2(
            contains(msg, "truncated") && (contains(msg, "'alpha'") || contains(msg, "'beta'")),
            label.c_str());
      }
    }
  }

  void safetensors_malformed_headers() {
    const std::string path = sub("bad.safetensors");
    auto expect = [&](const std::string& file, std::vector<std::string> parts) {
      write_bytes(path, file);
      auto msg = error_of([&] { load_safetensors(path); });
      parts.push_back(path);
      for (const auto& p : parts) QVERIFY2(contains(msg, p), (p + " not in: " + msg).c_str());
    };
    const std::string data8(8, '\0');
    // Header length larger than the file, and an absurd header length.
    auto big = make_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data8);
    const uint64_t too_long = big.size() + 100, absurd = uint64_t{1} << 40;
    std::memcpy(big.data(), &too_long, 8);
    expect(big, {"header length"});
    std::memcpy(big.data(), &absurd, 8);
    expect(big, {"header length"});
    expect(make_file("not json at all", data8), {"JSON"});
    expect(make_file("[1, 2]", data8), {"object"});
    expect(make_file(R"({"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", data8),
           {"'x'", "F64"});
    expect(make_file(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8),
           {"'x'", "data_offsets"});
    expect(make_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", data8),
           {"'x'", "needs 4"});
    expect(make_file(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", data8),
           {"'x'", "shape"});
    expect(make_file(R"({"x":{"dtype":"F32","shape":[2]}})", data8), {"'x'", "data_offsets"});
    expect(make_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                         "y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                     data8),
           {"overlaps"});
    expect(make_file(R"({"__metadata__":{"k":1}})", ""), {"metadata"});
    // The format's own rules: one name once, the data section covered in order, no holes.
    expect(make_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                         "x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                     data8),
           {"duplicate key \"x\""});
    expect(make_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", data8),
           {"4 bytes after the last tensor"});
    expect(make_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8),
           {"'x'", "a hole of 4 bytes"});
    expect(make_file(R"({"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},
                         "y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                     data8),
           {"'y'", "a hole of 2 bytes"});
    // Numbers beyond int64 and uint64 in shapes and offsets, and a header nested past the
    // depth limit (65,000 levels used to exhaust the stack while building the message).
    expect(make_file(R"({"x":{"dtype":"F32","shape":[18446744073709551617],"data_offsets":[0,8]}})",
                     data8),
           {"'x'", "shape"});
    expect(make_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}})",
                     data8),
           {"'x'"});
    expect(make_file(R"({"x":{"dtype":"F32","shape":)" + std::string(65000, '[') + "2", data8),
           {"nested deeper than 64 levels"});
  }

 private:
  std::string sub(const std::string& name) const {
    return dir_.filePath(QString::fromStdString(name)).toStdString();
  }
  QTemporaryDir dir_;
};

QTEST_APPLESS_MAIN(TestModel)
#include "tst_model.moc"
