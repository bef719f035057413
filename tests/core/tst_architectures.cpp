// SPDX-License-Identifier: GPL-3.0-or-later
// Real HF backbones on tiny random checkpoints written in each architecture's exact key layout
// (LLaMA with llama3 RoPE and biases, Mistral with a sliding window, Qwen2 tied with q/k/v
// biases, Mixtral, OLMoE, Qwen2-MoE): loading (single file, sharded, f16/bf16), logits against a
// naive float64 reference decoder written from the HF modeling files (no transformers here),
// MoE routing against a per-token reference, KV cache (also left-padded), greedy generation
// against a plain argmax loop, save/load round trips, `inspect`, and the error messages.
// Legend: B batch, T time, V vocab, C hidden, N tokens, E experts.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/model/attention_mask.h"
#include "core/model/generation.h"
#include "core/model/model_inspect.h"
#include "core/model/rope.h"
#include "core/model/transformer_lm.h"
#include "core/tensor/safetensors.h"
#include "tests/core/hf_reference.h"
#include "tests/core/test_util.h"

using namespace apportion;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

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

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

torch::Tensor ids_tensor(const std::vector<int64_t>& ids) {
  return torch::tensor(ids, torch::kInt64).unsqueeze(0);  // [1, T]
}

std::vector<int64_t> random_sequence(int64_t t, int64_t seed) {
  torch::manual_seed(static_cast<uint64_t>(seed));
  auto r = torch::randint(/*low=*/3, /*high=*/64, {t}, torch::kInt64);
  return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + t);
}

/// Argmax loop without a cache, one prompt at a time (the generation reference).
std::vector<int64_t> naive_greedy(TransformerLM& model,
                                  std::vector<int64_t> ids,
                                  int max_new,
                                  int64_t eos) {
  std::vector<int64_t> out;
  torch::NoGradGuard no_grad;
  for (int i = 0; i < max_new; ++i) {
    auto logits = model->forward(ids_tensor(ids));  // [1, T, V]
    const int64_t next = logits[0][logits.size(1) - 1].argmax().item<int64_t>();
    out.push_back(next);
    ids.push_back(next);
    if (next == eos) break;
  }
  return out;
}

}  // namespace

class TestArchitectures : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    torch::set_num_threads(1);
    QVERIFY(dir_.isValid());
    for (const auto& arch : test::fixture_architectures()) {
      config_[arch] = test::tiny_hf_config(arch);
      weights_[arch] = test::random_weights(config_[arch], /*seed=*/7);
      test::write_checkpoint(sub(arch), config_[arch], weights_[arch]);
    }
  }

  void loads_every_architecture_in_hf_layout() {
    for (const auto& arch : test::fixture_architectures()) {
      auto model = load_pretrained(sub(arch));
      const auto& w = weights_[arch];
      std::set<std::string> params;
      for (const auto& p : model->named_parameters()) {
        params.insert(p.key());
        QVERIFY2(w.count(p.key()), (arch + ": unexpected parameter " + p.key()).c_str());
        QVERIFY2(torch::equal(p.value(), w.at(p.key())), (arch + ": " + p.key()).c_str());
      }
      QCOMPARE(params.size(), w.size());
      torch::NoGradGuard no_grad;
      auto logits = model->forward(torch::randint(3, 64, {2, 7}, torch::kInt64));
      QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{2, 7, 64}));
      QVERIFY(torch::isfinite(logits).all().item<bool>());
    }
  }

  void logits_match_naive_hf_reference() {
    for (const auto& arch : test::fixture_architectures()) {
      auto model = load_pretrained(sub(arch));
      torch::NoGradGuard no_grad;
      const auto ids = random_sequence(9, 3);
      auto got = model->forward(ids_tensor(ids))[0];  // [T, V]
      auto want = test::reference_forward(config_[arch], weights_[arch], ids);
      QVERIFY2(test::check_close(got, want, 1e-4, arch), arch.c_str());
    }
  }

  void moe_routing_matches_per_token_reference() {
    for (const std::string arch : {"mixtral", "olmoe", "qwen2_moe"}) {
      for (bool renorm : {false, true}) {
        if (arch == "mixtral" && !renorm) continue;  // Mixtral always renormalises
        auto cfg = config_[arch];
        cfg["norm_topk_prob"] = renorm;
        test::write_checkpoint(sub("route_" + arch), cfg, weights_[arch]);
        auto model = load_pretrained(sub("route_" + arch));
        auto& moe = *model->model->layer(0).moe;
        QCOMPARE(moe.norm_topk_prob(), renorm);
        torch::manual_seed(5);
        auto x = torch::randn({2, 5, 32});
        torch::NoGradGuard no_grad;
        auto got = moe.forward(x).reshape({10, 32});
        const std::string prefix =
            arch == "mixtral" ? "model.layers.0.block_sparse_moe." : "model.layers.0.mlp.";
        auto want = test::reference_moe(cfg, weights_[arch], prefix,
                                        x.reshape({10, 32}).to(torch::kFloat64));
        QVERIFY2(test::check_close(got, want, 1e-5, arch + " moe"), arch.c_str());
        // Router logits of the last forward: [N, E] float32, the plain gate projection.
        auto logits = model->backbone_router_logits();
        QVERIFY(logits[0].defined() && logits[0].scalar_type() == torch::kFloat32);
        QVERIFY(test::check_close(
            logits[0],
            torch::matmul(x.reshape({10, 32}), weights_[arch].at(prefix + "gate.weight").t()), 1e-6,
            "router logits"));
      }
    }
  }

  void moe_layout_slots_and_router_cache() {
    auto mixtral = load_pretrained(sub("mixtral"));
    auto slots = mixtral->projections();
    QCOMPARE(static_cast<int>(slots.size()), 2 * (4 + 4 * 3));
    const auto& s = slots[4 + 3 * 3];  // layer 0, expert 3, gate
    QCOMPARE(s.name, std::string("model.layers.0.block_sparse_moe.experts.3.w1"));
    QCOMPARE(s.module, std::string("gate_proj"));
    QCOMPARE(s.expert, 3);
    QCOMPARE(slots[4 + 3 * 3 + 1].name,
             std::string("model.layers.0.block_sparse_moe.experts.3.w3"));
    QCOMPARE(slots[4 + 3 * 3 + 1].module, std::string("up_proj"));
    QCOMPARE(slots[4 + 3 * 3 + 2].module, std::string("down_proj"));
    QCOMPARE(slots[0].expert, -1);
    QVERIFY(torch::equal(
        s.linear->weight,
        weights_["mixtral"].at("model.layers.0.block_sparse_moe.experts.3.w1.weight")));

    auto qmoe = load_pretrained(sub("qwen2_moe"));
    slots = qmoe->projections();
    QCOMPARE(static_cast<int>(slots.size()), (4 + 4 * 3 + 3) + 7);  // layer 1 is dense
    QCOMPARE(slots[16].name, std::string("model.layers.0.mlp.shared_expert.gate_proj"));
    QVERIFY(slots[16].shared_expert && slots[16].expert == -1);
    QCOMPARE(slots[19 + 4].name, std::string("model.layers.1.mlp.gate_proj"));
    const auto shape = qmoe->shape();
    QCOMPARE(shape.backbone_experts, (std::vector<int>{4, 0}));
    QCOMPARE(shape.backbone_top_k, (std::vector<int>{2, 0}));
    QCOMPARE(shape.moe_intermediate_size, 24);
    QCOMPARE(shape.shared_expert_intermediate_size, 40);

    torch::NoGradGuard no_grad;
    qmoe->forward(torch::randint(3, 64, {2, 3}, torch::kInt64));
    auto logits = qmoe->backbone_router_logits();
    QCOMPARE(static_cast<int>(logits.size()), 2);
    QCOMPARE(logits[0].sizes().vec(), (std::vector<int64_t>{6, 4}));
    QVERIFY(!logits[1].defined());
    qmoe->clear_router_cache();
    QVERIFY(!qmoe->backbone_router_logits()[0].defined());
    qmoe->freeze_backbone(/*train_routers=*/true);
    QVERIFY(qmoe->model->layer(0).moe->gate->weight.requires_grad());
    QVERIFY(!qmoe->model->layer(0).moe->shared_expert_gate->weight.requires_grad());
  }

  void kv_cache_matches_full_forward() {
    for (const auto& arch : test::fixture_architectures()) {
      auto model = load_pretrained(sub(arch));
      torch::NoGradGuard no_grad;
      auto ids = torch::randint(3, 64, {2, 10}, torch::kInt64);
      auto full = model->forward(ids);  // [B, T, V]
      KVCache cache;
      std::vector<torch::Tensor> parts;
      parts.push_back(model->forward(ids.narrow(1, 0, 4), {}, &cache));
      parts.push_back(model->forward(ids.narrow(1, 4, 3), {}, &cache));  // a chunk
      for (int64_t t = 7; t < 10; ++t) {
        parts.push_back(model->forward(ids.narrow(1, t, 1), {}, &cache));
      }
      QCOMPARE(cache.offset, int64_t{10});
      QVERIFY2(test::check_close(torch::cat(parts, 1), full, 1e-5, arch + " cache"), arch.c_str());
    }
  }

  void kv_cache_with_left_padding_matches_unpadded() {
    // Mistral is left out: HF counts the window in cache positions, padding included.
    for (const std::string arch : {"llama", "qwen2", "mixtral", "olmoe", "qwen2_moe"}) {
      auto model = load_pretrained(sub(arch));
      torch::NoGradGuard no_grad;
      const auto a = random_sequence(8, 11), b = random_sequence(5, 12);
      auto ids = torch::zeros({2, 8}, torch::kInt64);
      auto mask = torch::zeros({2, 8}, torch::kInt64);
      ids[0].copy_(torch::tensor(a));
      mask[0].fill_(1);
      ids[1].narrow(0, 3, 5).copy_(torch::tensor(b));
      mask[1].narrow(0, 3, 5).fill_(1);
      KVCache cache;
      auto first = model->forward(ids, mask, &cache);          // [2, 8, V]
      auto step = torch::tensor({{17}, {23}}, torch::kInt64);  // [2, 1]
      auto second = model->forward(step, torch::ones({2, 1}, torch::kInt64), &cache);
      auto b_ext = b;
      b_ext.push_back(23);
      auto alone = model->forward(ids_tensor(b_ext));  // [1, 6, V]
      QVERIFY2(test::check_close(first[1].narrow(0, 3, 5), alone[0].narrow(0, 0, 5), 1e-5,
                                 arch + " padded prompt"),
               arch.c_str());
      QVERIFY2(test::check_close(second[1][0], alone[0][5], 1e-5, arch + " padded step"),
               arch.c_str());
      auto a_ext = a;
      a_ext.push_back(17);
      QVERIFY(test::check_close(second[0][0], model->forward(ids_tensor(a_ext))[0][8], 1e-5,
                                arch + " unpadded row"));
    }
  }

  void positions_follow_the_attention_mask() {
    // RoPE is relative, so shifted positions would not show in the logits: check them here.
    auto mask = torch::tensor({{0, 0, 1, 1, 1}, {1, 1, 1, 0, 0}}, torch::kInt64);
    auto s = sequence_layout(2, 5, mask, nullptr, torch::kCPU);
    QVERIFY(torch::equal(s.positions.select(0, 0).narrow(0, 2, 3), torch::arange(3)));
    QVERIFY(torch::equal(s.positions.select(0, 1).narrow(0, 0, 3), torch::arange(3)));
    KVCache cache;
    cache.offset = 5;
    cache.attention_mask = mask;
    s = sequence_layout(2, 1, torch::ones({2, 1}, torch::kInt64), &cache, torch::kCPU);
    QCOMPARE(s.total, int64_t{6});
    QVERIFY(torch::equal(s.positions, torch::tensor({{3}, {3}}, torch::kInt64)));
    auto m = additive_attention_mask(s, 1, /*window=*/0, torch::kCPU);  // [2, 1, 1, 6]
    QCOMPARE(m.sizes().vec(), (std::vector<int64_t>{2, 1, 1, 6}));
    QVERIFY(torch::equal(m[0][0][0] == 0, torch::tensor({0, 0, 1, 1, 1, 1}).to(torch::kBool)));
    QVERIFY(torch::equal(m[1][0][0] == 0, torch::tensor({1, 1, 1, 0, 0, 1}).to(torch::kBool)));
    s = sequence_layout(1, 6, {}, nullptr, torch::kCPU);
    m = additive_attention_mask(s, 6, /*window=*/2, torch::kCPU)[0][0];  // [T, S]
    QVERIFY(torch::equal(m[5] == 0, torch::tensor({0, 0, 0, 0, 1, 1}).to(torch::kBool)));
    auto msg = error_of([&] { sequence_layout(2, 3, torch::ones({2, 4}), nullptr, torch::kCPU); });
    QVERIFY2(has(msg, "attention_mask"), msg.c_str());
  }

  void sliding_window_limits_attention() {
    // Two layers with window 4 see at most 6 positions back: token 2 cannot reach position 9.
    auto model = load_pretrained(sub("mistral"));
    torch::NoGradGuard no_grad;
    auto ids = torch::randint(3, 64, {1, 10}, torch::kInt64);
    auto changed = ids.clone();
    changed[0][2] = (ids[0][2].item<int64_t>() + 5) % 64;
    auto a = model->forward(ids), b = model->forward(changed);
    QVERIFY(test::check_close(a[0][9], b[0][9], 1e-6, "outside the window"));
    QVERIFY(!torch::allclose(a[0][7], b[0][7]));
    auto cfg = config_["mistral"];
    cfg["sliding_window"] = nullptr;
    test::write_checkpoint(sub("mistral_full"), cfg, weights_["mistral"]);
    auto full = load_pretrained(sub("mistral_full"))->forward(ids);
    QVERIFY(test::check_close(full.narrow(1, 0, 4), a.narrow(1, 0, 4), 1e-6, "inside window"));
    QVERIFY(!torch::allclose(full[0][9], a[0][9]));
  }

  void qwen2_biases_are_used_and_embeddings_tied() {
    auto model = load_pretrained(sub("qwen2"));
    QVERIFY(!model->named_parameters().contains("lm_head.weight"));
    QVERIFY(!model->model->layer(0).self_attn->o_proj->bias.defined());
    torch::NoGradGuard no_grad;
    auto ids = torch::randint(3, 64, {1, 6}, torch::kInt64);
    auto base = model->forward(ids);
    for (const char* proj : {"q_proj", "k_proj", "v_proj"}) {
      auto p = model->named_parameters()[std::string("model.layers.0.self_attn.") + proj + ".bias"];
      auto saved = p.clone();
      p.zero_();
      QVERIFY2(!torch::allclose(model->forward(ids), base, 1e-6, 1e-6), proj);
      p.copy_(saved);
    }
    QVERIFY(torch::equal(model->forward(ids), base));
    // A tied checkpoint that still carries lm_head.weight loads (HF artefact) and ignores it.
    auto w = weights_["qwen2"];
    w["lm_head.weight"] = torch::zeros({64, 32});
    test::write_checkpoint(sub("qwen2_lm_head"), config_["qwen2"], w);
    QVERIFY(torch::equal(load_pretrained(sub("qwen2_lm_head"))->forward(ids), base));
  }

  void llama3_rope_frequencies() {
    auto cfg = ModelConfig::from_json(config_["llama"], "llama");
    auto inv = rope_inv_freq(cfg, torch::kCPU);
    QCOMPARE(inv.size(0), int64_t{8});
    // θ 10000, D 16, factor 8, low 1, high 4, original 64 (hand-computed):
    // dim 0: wavelength 2π < 64/4 → unchanged; dims 1, 2: between → smoothed; dim 3: > 64 → /8.
    const double want[] = {1.0, 0.2443845994, 0.01304225604, 0.003952847075};
    for (int i = 0; i < 4; ++i) {
      QVERIFY2(std::abs(inv[i].item<double>() - want[i]) <= 1e-6 * want[i],
               std::to_string(inv[i].item<double>()).c_str());
    }
    QVERIFY(test::check_close(inv, test::reference_inv_freq(config_["llama"]), 1e-6, "llama3"));
    auto linear = config_["llama"];
    linear["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
    auto lin = rope_inv_freq(ModelConfig::from_json(linear, "linear"), torch::kCPU);
    QVERIFY(std::abs(lin[1].item<double>() - 0.316227766 / 4) < 1e-7);
  }

  void sharded_and_half_precision_checkpoints() {
    const auto& cfg = config_["mixtral"];
    const auto& w = weights_["mixtral"];
    test::write_checkpoint(sub("sharded"), cfg, w, /*shards=*/3);
    QVERIFY(fs::exists(sub("sharded") + "/model-00003-of-00003.safetensors"));
    torch::NoGradGuard no_grad;
    auto ids = torch::randint(3, 64, {2, 5}, torch::kInt64);
    auto ref = load_pretrained(sub("mixtral"))->forward(ids);
    QVERIFY(torch::equal(load_pretrained(sub("sharded"))->forward(ids), ref));

    for (auto half : {torch::kBFloat16, torch::kFloat16}) {
      test::TensorMap hw;
      for (const auto& [k, t] : w) hw[k] = t.to(half);
      test::write_checkpoint(sub("half"), cfg, hw, /*shards=*/2);
      auto model = load_pretrained(sub("half"));  // default: float32
      for (const auto& p : model->named_parameters()) {
        QVERIFY(p.value().scalar_type() == torch::kFloat32);
        QVERIFY2(torch::equal(p.value(), w.at(p.key()).to(half).to(torch::kFloat32)),
                 p.key().c_str());
      }
      LoadOptions keep;
      keep.dtype = std::nullopt;  // keep the checkpoint's dtype
      auto native = load_pretrained(sub("half"), keep);
      QVERIFY(native->named_parameters()["model.norm.weight"].scalar_type() == half);
      QCOMPARE(native->config().torch_dtype,
               std::string(half == torch::kBFloat16 ? "bfloat16" : "float16"));
      if (half == torch::kBFloat16) {
        // bf16 arithmetic (and the odd routing flip) only perturbs the logits on average.
        auto out = native->forward(ids);
        QVERIFY(out.scalar_type() == half && torch::isfinite(out).all().item<bool>());
        auto ref32 = model->forward(ids);
        const double err = (out.to(torch::kFloat32) - ref32).abs().mean().item<double>();
        QVERIFY2(err < 0.05 * ref32.abs().mean().item<double>(), std::to_string(err).c_str());
      }
    }
    auto as_bf16 = load_pretrained(sub("mixtral"), LoadOptions{torch::kBFloat16});
    QVERIFY(as_bf16->named_parameters()["lm_head.weight"].scalar_type() == torch::kBFloat16);
  }

  void save_load_round_trips_in_hf_layout() {
    for (const auto& arch : test::fixture_architectures()) {
      auto model = load_pretrained(sub(arch));
      save_pretrained(model, sub("rt_" + arch));
      auto file = load_safetensors(sub("rt_" + arch) + "/model.safetensors");
      QCOMPARE(file.tensors.size(), weights_[arch].size());
      for (const auto& [k, t] : weights_[arch])
        QVERIFY2(torch::equal(file.tensors.at(k), t), k.c_str());
      auto again = load_pretrained(sub("rt_" + arch));
      torch::NoGradGuard no_grad;
      auto ids = torch::randint(3, 64, {2, 6}, torch::kInt64);
      QVERIFY2(torch::equal(model->forward(ids), again->forward(ids)), arch.c_str());
      QVERIFY(again->config().to_json() == model->config().to_json());
    }
    // A randomly initialised MoE backbone from an inline config is written as a real checkpoint.
    for (const std::string arch : {"mixtral", "olmoe", "qwen2_moe"}) {
      torch::manual_seed(1);
      TransformerLM fresh(ModelConfig::from_json(config_[arch], "backbone.config"));
      save_pretrained(fresh, sub("fresh_" + arch));
      auto file = load_safetensors(sub("fresh_" + arch) + "/model.safetensors");
      const auto layout = test::hf_layout(config_[arch]);
      QCOMPARE(file.tensors.size(), layout.size());
      for (const auto& [k, shape] : layout) {
        QVERIFY2(file.tensors.count(k) && file.tensors.at(k).sizes().vec() == shape, k.c_str());
      }
      torch::NoGradGuard no_grad;
      auto ids = torch::randint(3, 64, {1, 4}, torch::kInt64);
      QVERIFY(
          torch::equal(load_pretrained(sub("fresh_" + arch))->forward(ids), fresh->forward(ids)));
    }
  }

  void greedy_generation_equals_argmax_loop() {
    for (const std::string arch : {"llama", "mistral", "mixtral", "qwen2_moe"}) {
      auto model = load_pretrained(sub(arch));
      const std::vector<std::vector<int64_t>> prompts = {
          random_sequence(6, 21), {5, 9}, random_sequence(3, 22)};
      // EOS: the third token the first prompt would produce, so row 0 stops early.
      const int64_t eos = naive_greedy(model, prompts[0], 3, -1).back();
      GenerationOptions opt;
      opt.max_new_tokens = 8;
      opt.eos_token_ids = {eos};
      auto cached = generate_greedy(model, prompts, opt);
      opt.use_cache = false;
      auto uncached = generate_greedy(model, prompts, opt);
      for (size_t i = 0; i < prompts.size(); ++i) {
        const auto want = naive_greedy(model, prompts[i], 8, eos);
        QVERIFY2(cached.tokens[i] == want, (arch + " prompt " + std::to_string(i)).c_str());
        QVERIFY2(uncached.tokens[i] == want, (arch + " uncached " + std::to_string(i)).c_str());
        QCOMPARE(static_cast<bool>(cached.stopped_at_eos[i]), want.back() == eos);
      }
      QVERIFY(cached.stopped_at_eos[0] && cached.tokens[0].size() <= 3);
      QVERIFY(model->is_training());  // the mode is restored
      auto msg =
          error_of([&] { generate_greedy(model, std::vector<std::vector<int64_t>>(1), opt); });
      QVERIFY2(has(msg, "empty"), msg.c_str());
    }
  }

  void inspect_reads_headers_only() {
    test::write_checkpoint(sub("inspect"), config_["qwen2_moe"], weights_["qwen2_moe"], 2);
    std::ofstream(sub("inspect") + "/tokenizer.json") << "{}";
    const json j = inspect_model_dir(sub("inspect"));
    QCOMPARE(j["architecture"].get<std::string>(), std::string("Qwen2MoeForCausalLM"));
    QCOMPARE(j["num_layers"].get<int>(), 2);
    QCOMPARE(j["num_experts"].get<int>(), 4);
    QCOMPARE(j["top_k"].get<int>(), 2);
    QCOMPARE(j["moe_layers"].get<int>(), 1);
    QCOMPARE(j["layers"][1]["type"].get<std::string>(), std::string("dense"));
    int64_t total = 0, experts = 0;
    for (const auto& [k, t] : weights_["qwen2_moe"]) {
      total += t.numel();
      if (has(k, ".experts.")) experts += t.numel();
    }
    QCOMPARE(j["total_parameters"].get<int64_t>(), total);
    QCOMPARE(j["parameters"]["experts"].get<int64_t>(), experts);
    QCOMPARE(j["active_parameters"].get<int64_t>(), total - experts / 2);
    QVERIFY(j["dtypes"] == json::array({"F32"}));
    QCOMPARE(j["files"].size(), size_t{2});
    QVERIFY(j["sharded"].get<bool>());
    QCOMPARE(j["tokenizer"].get<std::string>(), std::string("tokenizer.json"));
  }

  void config_errors_name_the_field() {
    const std::string path = sub("bad_config");
    test::write_checkpoint(path, config_["mixtral"], weights_["mixtral"]);
    auto expect = [&](const json& cfg, std::vector<std::string> parts) {
      std::ofstream(path + "/config.json") << cfg.dump();
      auto msg = error_of([&] { load_pretrained(path); });
      parts.push_back(path + "/config.json");
      for (const auto& p : parts) QVERIFY2(has(msg, p), (p + " not in: " + msg).c_str());
    };
    auto c = config_["mixtral"];
    c["architectures"] = {"GPT2LMHeadModel"};
    c.erase("model_type");
    expect(c, {"architectures", "GPT2LMHeadModel", "MixtralForCausalLM", "Qwen2MoeForCausalLM"});
    c = config_["mixtral"];
    c["model_type"] = "llama";
    expect(c, {"model_type", "\"mixtral\""});
    c = config_["mixtral"];
    c.erase("num_local_experts");
    expect(c, {"num_local_experts", "missing"});
    c = config_["mixtral"];
    c["num_experts_per_tok"] = 5;
    expect(c, {"num_experts_per_tok", "exceeds"});
    c = config_["mixtral"];
    c["num_attention_heads"] = 5;
    expect(c, {"hidden_size", "num_attention_heads"});
    c = config_["mixtral"];
    c["num_key_value_heads"] = 3;
    expect(c, {"num_key_value_heads"});
    c = config_["mixtral"];
    c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    expect(c, {"rope_scaling", "yarn"});
    c = config_["qwen2_moe"];
    c.erase("moe_intermediate_size");
    expect(c, {"moe_intermediate_size"});
  }

  void checkpoint_errors_name_the_tensor_and_file() {
    const std::string path = sub("bad_weights");
    const std::string st = path + "/model.safetensors";
    auto expect = [&](const test::TensorMap& w, std::vector<std::string> parts) {
      test::write_checkpoint(path, config_["olmoe"], w);
      auto msg = error_of([&] { load_pretrained(path); });
      for (const auto& p : parts) QVERIFY2(has(msg, p), (p + " not in: " + msg).c_str());
    };
    const std::string victim = "model.layers.1.mlp.experts.2.down_proj.weight";
    auto w = weights_["olmoe"];
    w.erase(victim);
    expect(w, {victim, path, "missing"});
    w = weights_["olmoe"];
    w["model.layers.0.mlp.experts.9.up_proj.weight"] = torch::zeros({48, 32});
    expect(w, {"model.layers.0.mlp.experts.9.up_proj.weight", st, "unexpected"});
    w = weights_["olmoe"];
    w[victim] = w[victim].t().contiguous();
    expect(w, {victim, st, "shape", "[48, 32]", "[32, 48]"});
    w = weights_["olmoe"];
    w["model.layers.0.self_attn.q_norm.weight"] = torch::ones({16});
    expect(w, {"model.layers.0.self_attn.q_norm.weight", "shape"});

    test::write_checkpoint(path, config_["olmoe"], weights_["olmoe"]);
    std::string bytes;
    {
      std::ifstream in(st, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::ofstream(st, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size() - 100);
    auto msg = error_of([&] { load_pretrained(path); });
    QVERIFY2(has(msg, st) && has(msg, "truncated"), msg.c_str());
  }

  void bad_index_errors() {
    const std::string path = sub("bad_index");
    const std::string index = path + "/model.safetensors.index.json";
    const auto& cfg = config_["llama"];
    auto fresh = [&] {
      fs::remove_all(path);
      test::write_checkpoint(path, cfg, weights_["llama"], /*shards=*/2);
      std::ifstream in(index);
      return json::parse(in);
    };
    auto load_msg = [&] { return error_of([&] { load_pretrained(path); }); };
    auto j = fresh();
    fs::remove(path + "/model-00002-of-00002.safetensors");
    auto msg = load_msg();
    QVERIFY2(has(msg, "model-00002-of-00002.safetensors") && has(msg, index), msg.c_str());

    j = fresh();  // a tensor in two shards
    test::TensorMap second = load_safetensors(path + "/model-00002-of-00002.safetensors").tensors;
    second["model.embed_tokens.weight"] = weights_["llama"].at("model.embed_tokens.weight");
    save_safetensors(path + "/model-00002-of-00002.safetensors", second);
    msg = load_msg();
    QVERIFY2(has(msg, "model.embed_tokens.weight") && has(msg, "both") &&
                 has(msg, "model-00001-of-00002.safetensors") &&
                 has(msg, "model-00002-of-00002.safetensors"),
             msg.c_str());

    j = fresh();  // the index lists a tensor no shard has
    j["weight_map"]["model.layers.7.mlp.up_proj.weight"] = "model-00001-of-00002.safetensors";
    std::ofstream(index) << j.dump();
    msg = load_msg();
    QVERIFY2(has(msg, "model.layers.7.mlp.up_proj.weight") && has(msg, index), msg.c_str());

    j = fresh();
    j["weight_map"] = json::array();
    std::ofstream(index) << j.dump();
    msg = load_msg();
    QVERIFY2(has(msg, index) && has(msg, "weight_map"), msg.c_str());

    j = fresh();
    j["weight_map"]["model.norm.weight"] = "../elsewhere.safetensors";
    std::ofstream(index) << j.dump();
    msg = load_msg();
    QVERIFY2(has(msg, "model.norm.weight") && has(msg, "inside the model folder"), msg.c_str());
  }

 private:
  std::string sub(const std::string& name) const {
    return dir_.filePath(QString::fromStdString(name)).toStdString();
  }
  QTemporaryDir dir_;
  std::map<std::string, json> config_;
  std::map<std::string, test::TensorMap> weights_;
};

QTEST_APPLESS_MAIN(TestArchitectures)
#include "tst_architectures.moc"
