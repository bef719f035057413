// SPDX-License-Identifier: GPL-3.0-or-later
// AlphaLoRA's torch row of the method seam: when the run builds the model, the α of every
// projection's weight spectrum (squared singular values, float32), the layer means, the
// expert counts ∝ α^β (core/methods/alphalora/alphalora_spectrum.h); the α are recorded as
// matrix records at the start of the run, so the run view shows the spectrum per layer.
#include <torch/torch.h>

#include <map>
#include <numeric>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/methods/alphalora/alphalora_options.h"
#include "core/methods/alphalora/alphalora_spectrum.h"
#include "core/train/method_runtime.h"
#include "core/train/train_records.h"

namespace apportion {
namespace {

/// What the allocation was decided from (BuiltModel::method_state).
struct AlphaLoraSpectra {
  std::vector<std::string> modules;               ///< canonical module order (columns)
  std::vector<std::vector<double>> module_alpha;  ///< [layer][module], NaN where absent
  std::vector<double> layer_alpha;                ///< [layer]
  std::vector<int> experts;                       ///< [layer]
};

double weight_alpha(const torch::Tensor& weight, const HillOptions& options) {
  torch::NoGradGuard no_grad;
  const torch::Tensor s = at::linalg_svdvals(weight.detach().to(torch::kCPU, torch::kFloat32));
  const torch::Tensor eig = (s * s).to(torch::kFloat64).contiguous();
  const double* p = eig.data_ptr<double>();
  return hill_alpha(std::vector<double>(p, p + eig.numel()), options);
}

AlphaLoraSpectra measure(BuiltModel& built, const AlphaLoraOptions& o) {
  HillOptions hill;
  hill.pl_fitting = o.pl_fitting;
  hill.filter_zeros = o.filter_zeros;
  const int layers = built.shape.num_layers;
  AlphaLoraSpectra s;
  s.modules = canonical_module_order(
      {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"});
  std::vector<std::map<std::string, std::vector<double>>> per(static_cast<size_t>(layers));
  std::vector<std::vector<double>> all(static_cast<size_t>(layers));
  for (const ProjectionSlot& slot : built.model->projections()) {
    const double a = weight_alpha(slot.linear->weight, hill);
    per[static_cast<size_t>(slot.layer)][slot.module].push_back(a);
    all[static_cast<size_t>(slot.layer)].push_back(a);
  }
  for (int l = 0; l < layers; ++l) {
    std::vector<double> row;
    for (const std::string& m : s.modules) {
      const auto& v = per[static_cast<size_t>(l)][m];
      row.push_back(v.empty() ? NAN : std::accumulate(v.begin(), v.end(), 0.0) / v.size());
    }
    s.module_alpha.push_back(row);
    const auto& v = all[static_cast<size_t>(l)];
    AP_CHECK_AS(ModelError, !v.empty(), "AlphaLoRA: layer ", l, " has no projection to measure");
    s.layer_alpha.push_back(std::accumulate(v.begin(), v.end(), 0.0) / v.size());
  }
  return s;
}

class AlphaLoraHooks final : public TrainingHooks {
 public:
  explicit AlphaLoraHooks(const HookContext& context) : ctx_(context) {}
  void before_training(int64_t first_step) override {
    const auto* s = std::any_cast<AlphaLoraSpectra>(&ctx_.built->method_state);
    if (!s || first_step > 0) return;  // a resumed run recorded them when it started
    const auto layers = static_cast<int64_t>(s->layer_alpha.size());
    MatrixPoint alpha, layer;
    alpha.key = kAlphaLoraAlpha;
    alpha.shape = {layers, static_cast<int64_t>(s->modules.size())};
    alpha.axes = "layer,module";
    layer.key = kAlphaLoraLayerAlpha;
    layer.shape = {layers, 1};
    layer.axes = "layer,value";
    for (const auto& row : s->module_alpha)
      for (double a : row) alpha.f32.push_back(static_cast<float>(a));
    for (double a : s->layer_alpha) layer.f32.push_back(static_cast<float>(a));
    for (MatrixPoint* m : {&alpha, &layer}) {
      m->step = first_step;
      m->wall_ms = now_ms();
      ctx_.sink->on_matrix(*m);
    }
    std::string counts, alphas;
    for (size_t l = 0; l < s->experts.size(); ++l) {
      counts += (l ? "," : "") + std::to_string(s->experts[l]);
      char text[32];
      std::snprintf(text, sizeof text, "%s%.3f", l ? "," : "", s->layer_alpha[l]);
      alphas += text;
    }
    ctx_.sink->on_tag({"alphalora/experts_per_layer", counts});
    ctx_.sink->on_tag({"alphalora/layer_alpha", alphas});
    ctx_.sink->on_log({"info", "AlphaLoRA: layer α " + alphas + " → experts " + counts});
  }

 private:
  HookContext ctx_;
};

class AlphaLoraRuntime final : public MethodRuntime {
 public:
  ExpertAllocation allocation(const ExperimentConfig& cfg,
                              const std::string& /*workspace_dir*/,
                              BuiltModel& built) const override {
    const AlphaLoraOptions o = alphalora_options(cfg);
    AlphaLoraSpectra s = measure(built, o);
    s.experts = experts_from_alphas(s.layer_alpha, o.total_for(built.shape.num_layers), o.beta);
    ExpertAllocation a = plan_from_counts(cfg, s.experts);
    built.method_state = std::move(s);
    return a;
  }
  std::unique_ptr<TrainingHooks> hooks(const HookContext& context) const override {
    return std::make_unique<AlphaLoraHooks>(context);
  }
};

}  // namespace

const MethodRuntime* alphalora_runtime() {
  static const AlphaLoraRuntime kRuntime;
  return &kRuntime;
}

}  // namespace apportion
