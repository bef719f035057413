// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of adapter export/import: PEFT LoRA folders (file contents as peft writes them, a round
// trip onto a fresh backbone gives identical logits, rank_pattern/alpha_pattern, tampered files
// fail naming the file and key), the LoRA-MoE layout (unstacked experts, allocation.json, round
// trip), sparse-MoE backbones (per-expert LoRA, trained router via modules_to_save), a run's
// adapters.safetensors, and the adapters.train_backbone_router config key.
// Legend: E experts, R rank, Din/Dout features.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "core/adapters/adapter_io.h"
#include "core/adapters/lora_adapter.h"
#include "core/adapters/moe_lora_adapter.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "core/tensor/safetensors.h"
#include "tests/core/test_util.h"

using namespace apportion;
using nlohmann::json;

/// QCOMPARE for JSON values, printing both on a mismatch.
#define AP_COMPARE_JSON(actual, expected)                                                          \
  do {                                                                                             \
    const json ap_a = (actual), ap_e = (expected);                                                 \
    QVERIFY2(ap_a == ap_e, (ap_a.dump() + " (actual) vs " + ap_e.dump() + " (expected)").c_str()); \
  } while (false)
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const apportion::Error& e) {
    return e.what();
  }
  return "<no apportion::Error>";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

void write_json_file(const fs::path& p, const json& j) { std::ofstream(p) << j.dump(2); }

/// Random non-zero B (and routers), so every adapter changes the output.
void randomise(const AdapterSet& set) {
  torch::NoGradGuard no_grad;
  for (auto& [name, p] : set.named_parameters()) {
    if (contains(name, "lora_B") || contains(name, "router")) p.normal_(0.0, 0.3);
  }
}

/// A fresh model with the same backbone weights as `model` and no adapters.
TransformerLM clone_backbone(TransformerLM& model) {
  TransformerLM fresh(model->config());
  torch::NoGradGuard no_grad;
  auto src = model->named_parameters();
  for (auto& p : fresh->named_parameters()) p.value().copy_(src[p.key()]);
  return fresh;
}

torch::Tensor logits_of(TransformerLM& model, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  model->eval();
  return model->forward(ids);
}

ModelConfig tiny_mixtral() {
  json c = {{"architectures", {"MixtralForCausalLM"}},
            {"model_type", "mixtral"},
            {"vocab_size", 64},
            {"hidden_size", 32},
            {"intermediate_size", 48},
            {"num_hidden_layers", 2},
            {"num_attention_heads", 4},
            {"num_key_value_heads", 2},
            {"max_position_embeddings", 64},
            {"bos_token_id", 1},
            {"eos_token_id", 2},
            {"num_local_experts", 4},
            {"num_experts_per_tok", 2}};
  return ModelConfig::from_json(c, "tiny mixtral");
}

AdapterConfig lora_config() {
  AdapterConfig cfg;
  cfg.method = "lora";
  cfg.r = 4;
  cfg.lora_alpha = 8.0;
  cfg.lora_dropout = 0.05;
  cfg.target_modules = {"q_proj", "v_proj", "down_proj"};
  return cfg;
}

/// Layer 0: experts of ranks {2, 4, 3}, top-2; layer 1: {4, 4}, top-1.
ExpertAllocation tiny_allocation() {
  ExpertAllocation a;
  a.ranks = {{2, 4, 3}, {4, 4}};
  a.top_k = {2, 1};
  return a;
}

/// Rewrites one tensor file with `edit` applied to its tensors.
void edit_tensors(const fs::path& file,
                  const std::function<void(std::map<std::string, at::Tensor>&)>& edit) {
  auto f = load_safetensors(file.string());
  edit(f.tensors);
  save_safetensors(file.string(), f.tensors, f.metadata);
}

}  // namespace

class TestAdapterIo : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_;
  torch::Tensor ids_;

  /// A fresh sub-folder of the temporary directory.
  fs::path dir(const std::string& name) {
    const fs::path d = fs::path(tmp_.path().toStdString()) / name;
    fs::remove_all(d);
    return d;
  }

 private Q_SLOTS:
  void initTestCase() {
    torch::manual_seed(0);
    torch::set_num_threads(1);
    QVERIFY(tmp_.isValid());
    ids_ = torch::randint(3, 64, {2, 9}, torch::kInt64);
  }

  void peft_files_as_peft_writes_them() {
    TransformerLM model(test::tiny_llama_config());
    model->freeze_backbone();
    const AdapterConfig cfg = lora_config();
    auto set = inject_adapters(model, cfg, ExpertAllocation{});
    randomise(set);
    const auto d = dir("peft");
    save_peft_adapter(model, set, d.string(), export_options_from(cfg, "backbones/tiny"));
    const json c = read_json(d / "adapter_config.json");
    QCOMPARE(c["peft_type"].get<std::string>(), std::string("LORA"));
    QCOMPARE(c["task_type"].get<std::string>(), std::string("CAUSAL_LM"));
    QCOMPARE(c["r"].dump(), std::string("4"));
    QCOMPARE(c["lora_alpha"].dump(), std::string("8"));  // an integer, as peft writes it
    QCOMPARE(c["lora_dropout"].get<double>(), 0.05);
    AP_COMPARE_JSON(c["target_modules"], json({"down_proj", "q_proj", "v_proj"}));
    QCOMPARE(c["bias"].get<std::string>(), std::string("none"));
    QCOMPARE(c["base_model_name_or_path"].get<std::string>(), std::string("backbones/tiny"));
    for (const char* k : {"fan_in_fan_out", "use_rslora", "use_dora"})
      AP_COMPARE_JSON(c[k], json(false));
    for (const char* k : {"inference_mode", "init_lora_weights"}) AP_COMPARE_JSON(c[k], json(true));
    for (const char* k : {"modules_to_save", "revision", "layers_to_transform", "layers_pattern"}) {
      QVERIFY2(c.contains(k) && c[k].is_null(), k);
    }
    AP_COMPARE_JSON(c["rank_pattern"], json::object());
    AP_COMPARE_JSON(c["alpha_pattern"], json::object());

    const auto f = load_safetensors((d / "adapter_model.safetensors").string());
    QCOMPARE(f.metadata.at("format"), std::string("pt"));
    QCOMPARE(static_cast<int>(f.tensors.size()), 2 * 6);  // 3 modules × 2 layers
    const auto& a = f.tensors.at("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight");
    const auto& b = f.tensors.at("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
    QVERIFY(a.sizes() == (std::vector<int64_t>{4, 32}));  // [r, in]
    QVERIFY(b.sizes() == (std::vector<int64_t>{32, 4}));  // [out, r]
    for (const auto& ad : set.adapters()) {
      if (ad.name == "model.layers.1.self_attn.v_proj") QVERIFY(torch::equal(a, ad.lora->lora_A));
      if (ad.name == "model.layers.0.mlp.down_proj") QVERIFY(torch::equal(b, ad.lora->lora_B));
    }
  }

  void peft_round_trip_identical_logits() {
    TransformerLM model(test::tiny_llama_config());
    model->freeze_backbone();
    auto fresh = clone_backbone(model);
    const auto base = logits_of(fresh, ids_);
    const AdapterConfig cfg = lora_config();
    auto set = inject_adapters(model, cfg, ExpertAllocation{});
    randomise(set);
    const auto expected = logits_of(model, ids_);
    QVERIFY((expected - base).abs().max().item<double>() > 1e-3);  // the adapters matter
    const auto d = dir("peft-rt");
    save_peft_adapter(model, set, d.string(), export_options_from(cfg, ""));
    const LoadedAdapter loaded = load_adapter(fresh, d.string());
    QVERIFY(loaded.format == AdapterFormat::Peft);
    QCOMPARE(loaded.method, std::string("lora"));
    QCOMPARE(loaded.set.adapters().size(), set.adapters().size());
    QCOMPARE(loaded.set.parameter_count(), set.parameter_count());
    QCOMPARE(loaded.set.adapters()[0].lora->scaling(), 2.0);
    QVERIFY(torch::equal(logits_of(fresh, ids_), expected));
    const json s = adapter_summary(loaded.set);
    AP_COMPARE_JSON(s["modules"], json({"q_proj", "v_proj", "down_proj"}));
    AP_COMPARE_JSON(s["ranks"], json::array({4}));
    QCOMPARE(s["parameters"].get<int64_t>(), set.parameter_count());
  }

  void peft_rank_and_alpha_patterns() {
    TransformerLM model(test::tiny_llama_config());
    model->freeze_backbone();
    auto fresh = clone_backbone(model);
    const AdapterConfig cfg = lora_config();
    auto set = inject_adapters(model, cfg, ExpertAllocation{});
    // v_proj: rank 2 (same α); layer 1 q_proj: DR-LoRA style, r_max 6 with 3 active and
    // s = 8 / 4 (exported as rank 3 with α = s · 3 = 6).
    for (auto& slot : model->projections()) {
      if (slot.module == "v_proj") {
        slot.linear->set_adapter(std::make_shared<LoraAdapterImpl>(32, 16, 2, 8.0, 0.05));
      }
      if (slot.name == "model.layers.1.self_attn.q_proj") {
        LoraOptions o{6, 8.0, 0.05, 3, 4.0};
        slot.linear->set_adapter(std::make_shared<LoraAdapterImpl>(32, 32, o));
      }
    }
    AdapterSet patched;
    for (auto& slot : model->projections()) {
      auto lora = std::dynamic_pointer_cast<LoraAdapterImpl>(slot.linear->adapter());
      if (!lora) continue;
      InjectedAdapter a{slot.layer, slot.module, slot.name, nullptr, lora};
      patched.add(a);
    }
    randomise(patched);
    const auto expected = logits_of(model, ids_);
    const auto d = dir("peft-patterns");
    save_peft_adapter(model, patched, d.string(), export_options_from(cfg, ""));
    json c = read_json(d / "adapter_config.json");
    QCOMPARE(c["r"].get<int>(), 4);
    AP_COMPARE_JSON(c["rank_pattern"], json({{"layers.0.self_attn.v_proj", 2},
                                             {"layers.1.self_attn.q_proj", 3},
                                             {"layers.1.self_attn.v_proj", 2}}));
    AP_COMPARE_JSON(c["alpha_pattern"], json({{"layers.1.self_attn.q_proj", 6}}));
    const auto f = load_safetensors((d / "adapter_model.safetensors").string());
    QVERIFY(
        f.tensors.at("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight").sizes() ==
        (std::vector<int64_t>{32, 3}));
    load_adapter(fresh, d.string());
    QVERIFY(torch::equal(logits_of(fresh, ids_), expected));
    // A regex key (peft's suffix matching) selects the same modules.
    c["rank_pattern"] = {{"v_proj", 2}, {"layers.1.self_attn.q_proj", 3}};
    write_json_file(d / "adapter_config.json", c);
    auto fresh2 = clone_backbone(model);
    load_adapter(fresh2, d.string());
    QVERIFY(torch::equal(logits_of(fresh2, ids_), expected));
    // Without rank_pattern the shapes do not fit: the error names the file and the key.
    c["rank_pattern"] = json::object();
    write_json_file(d / "adapter_config.json", c);
    const auto msg = error_of([&] { load_adapter(fresh2, d.string()); });
    QVERIFY2(contains(msg, "adapter_model.safetensors") &&
                 contains(msg, "model.layers.0.self_attn.v_proj.lora_A.weight") &&
                 contains(msg, "[2, 32]"),
             msg.c_str());
  }

  void peft_tampered_files_data() {
    QTest::addColumn<QString>("tamper");
    QTest::addColumn<QString>("expected1");
    QTest::addColumn<QString>("expected2");
    QTest::newRow("wrong shape") << "shape"
                                 << "adapter_model.safetensors"
                                 << "layers.0.self_attn.q_proj.lora_A.weight' has shape [32, 4]";
    QTest::newRow("unknown key")
        << "unknown"
        << "adapter_model.safetensors"
        << "'base_model.model.model.layers.0.self_attn.q_proj.lora_C.weight'";
    QTest::newRow("unknown module") << "module"
                                    << "adapter_model.safetensors"
                                    << "names module 'model.layers.7.self_attn.q_proj'";
    QTest::newRow("missing B") << "missing"
                               << "adapter_model.safetensors"
                               << "layers.1.mlp.down_proj.lora_B.weight' is missing";
    QTest::newRow("missing r") << "no_r"
                               << "adapter_config.json"
                               << "missing field \"r\"";
    QTest::newRow("missing target_modules") << "no_targets"
                                            << "adapter_config.json"
                                            << "missing field \"target_modules\"";
    QTest::newRow("not LoRA") << "ia3"
                              << "adapter_config.json"
                              << "peft_type is \"IA3\"";
    QTest::newRow("DoRA") << "dora"
                          << "adapter_config.json"
                          << "DoRA";
    QTest::newRow("not targeted") << "targets"
                                  << "adapter_model.safetensors"
                                  << "not selected by target_modules";
    QTest::newRow("truncated") << "truncate"
                               << "adapter_model.safetensors"
                               << "";
    QTest::newRow("no folder") << "nothing"
                               << "holds neither adapter_config.json"
                               << "";
  }
  void peft_tampered_files() {
    QFETCH(QString, tamper);
    QFETCH(QString, expected1);
    QFETCH(QString, expected2);
    TransformerLM model(test::tiny_llama_config());
    const AdapterConfig cfg = lora_config();
    auto set = inject_adapters(model, cfg, ExpertAllocation{});
    const auto d = dir("peft-tamper");
    save_peft_adapter(model, set, d.string(), export_options_from(cfg, ""));
    const auto st = d / "adapter_model.safetensors";
    const auto cj = d / "adapter_config.json";
    const std::string t = tamper.toStdString();
    const std::string pre = "base_model.model.model.layers.";
    json c = read_json(cj);
    if (t == "shape") {
      edit_tensors(st, [&](auto& m) {
        auto& a = m.at(pre + "0.self_attn.q_proj.lora_A.weight");
        a = a.t().contiguous();
      });
    } else if (t == "unknown") {
      edit_tensors(st, [&](auto& m) {
        m[pre + "0.self_attn.q_proj.lora_C.weight"] = torch::zeros({4, 32});
      });
    } else if (t == "module") {
      edit_tensors(st, [&](auto& m) {
        m[pre + "7.self_attn.q_proj.lora_A.weight"] = torch::zeros({4, 32});
      });
    } else if (t == "missing") {
      edit_tensors(st, [&](auto& m) { m.erase(pre + "1.mlp.down_proj.lora_B.weight"); });
    } else if (t == "no_r" || t == "no_targets") {
      c.erase(t == "no_r" ? "r" : "target_modules");
    } else if (t == "ia3") {
      c["peft_type"] = "IA3";
    } else if (t == "dora") {
      c["use_dora"] = true;
    } else if (t == "targets") {
      c["target_modules"] = {"q_proj", "v_proj"};
    } else if (t == "truncate") {
      fs::resize_file(st, fs::file_size(st) - 100);
    } else if (t == "nothing") {
      fs::remove(cj);
    }
    if (t != "nothing") write_json_file(cj, c);
    TransformerLM fresh(test::tiny_llama_config());
    const auto msg = error_of([&] { load_adapter(fresh, d.string()); });
    qInfo("%s", msg.c_str());
    QVERIFY2(contains(msg, expected1.toStdString()) && contains(msg, expected2.toStdString()),
             msg.c_str());
  }

  void lora_moe_round_trip() {
    TransformerLM model(test::tiny_llama_config());
    model->freeze_backbone();
    auto fresh = clone_backbone(model);
    AdapterConfig cfg;
    cfg.target_modules = {"q_proj", "k_proj", "down_proj"};
    auto set = inject_adapters(model, cfg, tiny_allocation());
    randomise(set);
    const auto expected = logits_of(model, ids_);
    const auto d = dir("moe");
    save_lora_moe_adapter(model, set, d.string(), export_options_from(cfg, "backbones/tiny"));
    const json a = read_json(d / "apportion_adapter.json");
    QCOMPARE(a["format"].get<std::string>(), std::string("apportion-lora-moe"));
    QCOMPARE(a["format_version"].get<int>(), kLoraMoeFormatVersion);
    QCOMPARE(a["method"].get<std::string>(), std::string("moe_lora"));
    QCOMPARE(a["scaling"].get<std::string>(), std::string("alpha_over_rank"));
    AP_COMPARE_JSON(a["top_k_per_layer"], json({2, 1}));
    QCOMPARE(a["lora_alpha"].dump(), std::string("16"));
    const json al = read_json(d / "allocation.json");
    AP_COMPARE_JSON(al["experts_per_layer"], json({3, 2}));
    AP_COMPARE_JSON(al["rank_per_expert"], json({{2, 4, 3}, {4, 4}}));
    QCOMPARE(al["modules"].size(), size_t{6});
    QCOMPARE(al["modules"][0]["name"].get<std::string>(),
             std::string("model.layers.0.self_attn.q_proj"));
    const auto f = load_safetensors((d / "adapter_model.safetensors").string());
    QCOMPARE(static_cast<int>(f.tensors.size()), 3 * (1 + 2 * 3) + 3 * (1 + 2 * 2));
    // Unstacked: expert 2 of layer 0 q_proj is rows 6..8 of the stacked A, columns 6..8 of B.
    const auto& moe = *set.adapters()[0].moe;
    const std::string p = "model.layers.0.self_attn.q_proj.";
    QVERIFY(torch::equal(f.tensors.at(p + "router.weight"), moe.router_weight));
    QVERIFY(torch::equal(f.tensors.at(p + "experts.2.lora_A.weight"), moe.lora_A.narrow(0, 6, 3)));
    QVERIFY(torch::equal(f.tensors.at(p + "experts.2.lora_B.weight"), moe.lora_B.narrow(1, 6, 3)));
    QVERIFY(f.tensors.at(p + "experts.1.lora_B.weight").sizes() == (std::vector<int64_t>{32, 4}));
    const LoadedAdapter loaded = load_adapter(fresh, d.string());
    QVERIFY(loaded.format == AdapterFormat::LoraMoe);
    QCOMPARE(loaded.method, std::string("moe_lora"));
    QCOMPARE(loaded.base_model_name_or_path, std::string("backbones/tiny"));
    QCOMPARE(loaded.set.parameter_count(), set.parameter_count());
    QVERIFY(torch::equal(logits_of(fresh, ids_), expected));
  }

  void lora_moe_explicit_scaling_and_errors() {
    TransformerLM model(test::tiny_llama_config());
    model->freeze_backbone();
    AdapterConfig cfg;
    cfg.target_modules = {"v_proj"};
    auto set = inject_adapters(model, cfg, tiny_allocation());
    randomise(set);
    set.adapters()[1].moe->set_expert_scaling({0.5, 0.25});  // GuiLoMo-style override
    const auto expected = logits_of(model, ids_);
    const auto d = dir("moe-explicit");
    save_lora_moe_adapter(model, set, d.string(), export_options_from(cfg, ""));
    QCOMPARE(read_json(d / "apportion_adapter.json")["scaling"].get<std::string>(),
             std::string("explicit"));
    AP_COMPARE_JSON(read_json(d / "allocation.json")["modules"][1]["scaling"], json({0.5, 0.25}));
    auto fresh = clone_backbone(model);
    load_adapter(fresh, d.string());
    QVERIFY(torch::equal(logits_of(fresh, ids_), expected));
    // Tampering: an extra tensor, a missing one, a newer format version.
    const auto st = d / "adapter_model.safetensors";
    edit_tensors(st, [](auto& m) {
      m["model.layers.0.self_attn.v_proj.experts.9.lora_A.weight"] = torch::zeros({1});
    });
    auto msg = error_of([&] { load_adapter(fresh, d.string()); });
    QVERIFY2(contains(msg, "unexpected tensor 'model.layers.0.self_attn.v_proj.experts.9"),
             msg.c_str());
    edit_tensors(st, [](auto& m) {
      m.erase("model.layers.0.self_attn.v_proj.experts.9.lora_A.weight");
      m.erase("model.layers.1.self_attn.v_proj.experts.1.lora_B.weight");
    });
    msg = error_of([&] { load_adapter(fresh, d.string()); });
    QVERIFY2(contains(msg,
                      "adapter_model.safetensors: tensor "
                      "'model.layers.1.self_attn.v_proj.experts.1.lora_B.weight' is missing"),
             msg.c_str());
    json a = read_json(d / "apportion_adapter.json");
    a["format_version"] = 99;
    write_json_file(d / "apportion_adapter.json", a);
    msg = error_of([&] { load_adapter(fresh, d.string()); });
    QVERIFY2(contains(msg, "apportion_adapter.json: format_version 99"), msg.c_str());
    QVERIFY(contains(error_of([&] { save_peft_adapter(model, set, dir("x").string(), {}); }),
                     "LoRA-MoE"));
  }

  void moe_backbone_peft_with_router() {
    torch::manual_seed(4);
    TransformerLM model(tiny_mixtral());
    model->freeze_backbone();
    auto fresh = clone_backbone(model);
    AdapterConfig cfg = lora_config();
    cfg.target_modules = {"q_proj", "gate_proj", "down_proj"};
    cfg.train_backbone_router = true;
    ExpertAllocation alloc;
    alloc.expert_ranks = {{4, 4, 2, 4}, {4, 1, 4, 4}};
    auto set = inject_adapters(model, cfg, alloc);
    randomise(set);
    {
      torch::NoGradGuard no_grad;
      for (auto& [name, t] : set.backbone_parameters()) t.add_(torch::randn_like(t));
    }
    const auto expected = logits_of(model, ids_);
    const auto d = dir("mixtral-peft");
    save_peft_adapter(model, set, d.string(), export_options_from(cfg, ""));
    const json c = read_json(d / "adapter_config.json");
    AP_COMPARE_JSON(c["target_modules"], json({"q_proj", "w1", "w2"}));
    AP_COMPARE_JSON(c["modules_to_save"], json({"block_sparse_moe.gate"}));
    AP_COMPARE_JSON(c["rank_pattern"], json({{"layers.0.block_sparse_moe.experts.2.w1", 2},
                                             {"layers.0.block_sparse_moe.experts.2.w2", 2},
                                             {"layers.1.block_sparse_moe.experts.1.w1", 1},
                                             {"layers.1.block_sparse_moe.experts.1.w2", 1}}));
    const auto f = load_safetensors((d / "adapter_model.safetensors").string());
    QVERIFY(f.tensors.count("base_model.model.model.layers.0.block_sparse_moe.gate.weight"));
    QVERIFY(
        f.tensors.at("base_model.model.model.layers.1.block_sparse_moe.experts.1.w2.lora_A.weight")
            .sizes() == (std::vector<int64_t>{1, 48}));
    const LoadedAdapter loaded = load_adapter(fresh, d.string());
    QCOMPARE(loaded.set.backbone_parameters().size(), size_t{2});
    QVERIFY(torch::equal(logits_of(fresh, ids_), expected));
    // The same adapters as a LoRA-MoE layout folder (plain LoRA entries + router).
    const auto d2 = dir("mixtral-moe-layout");
    save_lora_moe_adapter(model, set, d2.string(), export_options_from(cfg, ""));
    AP_COMPARE_JSON(read_json(d2 / "allocation.json")["backbone_expert_ranks"],
                    json({{4, 4, 2, 4}, {4, 1, 4, 4}}));
    auto fresh2 = clone_backbone(fresh);
    {
      torch::NoGradGuard no_grad;  // undo the router import: the layout must carry it
      for (auto& p : fresh2->named_parameters()) {
        if (contains(p.key(), ".gate.weight")) p.value().zero_();
      }
    }
    load_adapter(fresh2, d2.string());
    QVERIFY(torch::equal(logits_of(fresh2, ids_), expected));
  }

  void run_adapter_weights() {
    TransformerLM model(test::tiny_llama_config());
    AdapterConfig cfg;
    cfg.target_modules = {"o_proj"};
    auto set = inject_adapters(model, cfg, tiny_allocation());
    randomise(set);
    std::map<std::string, at::Tensor> tensors;
    for (const auto& [name, t] : set.named_parameters()) tensors[name] = t.detach();
    const auto path = (dir("run") / "adapters.safetensors");
    fs::create_directories(path.parent_path());
    save_safetensors(path.string(), tensors);
    TransformerLM other(test::tiny_llama_config());
    auto set2 = inject_adapters(other, cfg, tiny_allocation());
    load_adapter_weights(set2, path.string());
    const auto a = set.named_parameters(), b = set2.named_parameters();
    for (size_t i = 0; i < a.size(); ++i) QVERIFY(torch::equal(a[i].second, b[i].second));
    tensors["model.layers.0.self_attn.o_proj.adapter.extra"] = torch::zeros({1});
    save_safetensors(path.string(), tensors);
    QVERIFY(contains(error_of([&] { load_adapter_weights(set2, path.string()); }),
                     "unexpected tensor 'model.layers.0.self_attn.o_proj.adapter.extra'"));
    cfg.target_modules = {"o_proj", "q_proj"};
    TransformerLM third(test::tiny_llama_config());
    auto set3 = inject_adapters(third, cfg, tiny_allocation());
    const auto msg = error_of([&] { load_adapter_weights(set3, path.string()); });
    QVERIFY2(
        contains(msg, "adapters.safetensors: tensor 'model.layers.0.self_attn.q_proj.adapter.") &&
            contains(msg, "is missing"),
        msg.c_str());
  }

  void train_backbone_router_config_key() {
    json j = {{"backbone", {{"config", tiny_mixtral().to_json()}}},
              {"adapters", {{"method", "lora"}, {"train_backbone_router", true}}}};
    const auto c = ExperimentConfig::from_json(j);
    QVERIFY(c.adapters->train_backbone_router);
    AP_COMPARE_JSON(c.to_json()["adapters"]["train_backbone_router"], json(true));
    QVERIFY(ExperimentConfig::from_json(c.to_json()).adapters->train_backbone_router);
    j["adapters"].erase("train_backbone_router");
    AP_COMPARE_JSON(ExperimentConfig::from_json(j).to_json()["adapters"]["train_backbone_router"],
                    json(false));
    j["adapters"]["train_backbone_router"] = "yes";
    QVERIFY(contains(error_of([&] { ExperimentConfig::from_json(j); }),
                     "adapters.train_backbone_router"));
    j["adapters"]["train_backbone_router"] = true;
    j["backbone"]["config"] = test::tiny_llama_config().to_json();
    const auto msg = error_of([&] { ExperimentConfig::from_json(j); });
    QVERIFY2(contains(msg, "adapters.train_backbone_router") && contains(msg, "dense"),
             msg.c_str());
  }
};

QTEST_APPLESS_MAIN(TestAdapterIo)
#include "tst_adapter_io.moc"
