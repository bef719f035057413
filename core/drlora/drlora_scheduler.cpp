// SPDX-License-Identifier: GPL-3.0-or-later
// DR-LoRA scheduler (see drlora_scheduler.h): expert grouping, the f and g trackers, saliency,
// growth events and matrix records. f lives on the CPU (one small transfer per observed batch);
// the per-component importance EMAs stay on the LoRAs' device and are read back once per event
// or record.
// Legend: L adapted MoE layers, N routed experts per layer, R allocated rank (r_max), k active.
#include "core/drlora/drlora_scheduler.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>

#include "core/adapters/lora_adapter.h"
#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/drlora/drlora_signals.h"
#include "core/drlora/rank_growth.h"
#include "core/store/matrix_keys.h"

namespace apportion {
namespace {

const DrLoraOptions& validated(const DrLoraOptions& options) {
  options.validate();
  return options;
}

}  // namespace

/// One routed expert: its LoRAs (gate/up/down, as present), shared rank and trackers.
struct DrLoraScheduler::Expert {
  int layer = 0;
  int expert = 0;
  int rank = 0;
  double frequency = 0.0;
  std::vector<std::shared_ptr<LoraAdapterImpl>> loras;
  std::vector<std::string> names;
  std::vector<torch::Tensor> importance_ema;  ///< per LoRA, [R] float32 (0 past the active rank)
};

DrLoraScheduler::DrLoraScheduler(const DrLoraOptions& options,
                                 const ModelConfig& config,
                                 const std::vector<ProjectionSlot>& slots,
                                 int64_t total_steps)
    : options_(options),
      schedule_(validated(options), total_steps),
      num_layers_(config.num_hidden_layers),
      num_experts_(config.num_experts) {
  AP_CHECK_AS(ModelError, config.is_moe(),
              "DR-LoRA needs a sparse-MoE backbone (Mixtral, OLMoE, Qwen2-MoE); ",
              config.architecture, " has no routed experts");
  index_.assign(static_cast<size_t>(num_layers_), std::vector<int>(num_experts_, -1));
  std::vector<std::vector<Expert>> found(static_cast<size_t>(num_layers_));
  for (auto& layer : found) layer.resize(static_cast<size_t>(num_experts_));
  for (const auto& slot : slots) {
    if (slot.expert < 0 || slot.shared_expert || !slot.linear) continue;
    auto adapter = slot.linear->adapter();
    if (!adapter) continue;
    auto lora = std::dynamic_pointer_cast<LoraAdapterImpl>(adapter);
    AP_CHECK_AS(ModelError, lora != nullptr, "DR-LoRA: ", slot.name,
                " carries an adapter that is not a plain LoRA; DR-LoRA needs one LoRA per "
                "routed-expert projection");
    AP_CHECK_AS(ModelError,
                slot.layer >= 0 && slot.layer < num_layers_ && slot.expert < num_experts_,
                "DR-LoRA: ", slot.name, " has layer ", slot.layer, " / expert ", slot.expert,
                " outside the model config");
    AP_CHECK_AS(ModelError, lora->rank() >= options_.r_max, "DR-LoRA: the LoRA on ", slot.name,
                " has R = ", lora->rank(), " allocated components, fewer than allocation.drlora.",
                "r_max = ", options_.r_max, "; build the expert LoRAs with r = r_max");
    auto& e = found[static_cast<size_t>(slot.layer)][static_cast<size_t>(slot.expert)];
    e.layer = slot.layer;
    e.expert = slot.expert;
    e.loras.push_back(lora);
    e.names.push_back(slot.name);
  }
  for (int l = 0; l < num_layers_; ++l) {
    auto& layer = found[static_cast<size_t>(l)];
    const bool adapted =
        std::any_of(layer.begin(), layer.end(), [](const Expert& e) { return !e.loras.empty(); });
    if (!adapted) continue;
    for (int i = 0; i < num_experts_; ++i) {
      auto& e = layer[static_cast<size_t>(i)];
      AP_CHECK_AS(ModelError, !e.loras.empty(), "DR-LoRA: routed expert ", i, " of layer ", l,
                  " has no LoRA while other experts of the layer do; adapt every expert");
      e.rank = options_.r_init;
      for (auto& lora : e.loras) {
        lora->set_active_rank(options_.r_init);
        e.importance_ema.push_back(
            torch::zeros({lora->rank()}, lora->lora_A.options().dtype(torch::kFloat32)));
      }
      index_[static_cast<size_t>(l)][static_cast<size_t>(i)] = static_cast<int>(experts_.size());
      experts_.push_back(std::move(e));
    }
  }
  AP_CHECK_AS(ModelError, !experts_.empty(),
              "DR-LoRA: no routed-expert projection carries a LoRA; target gate_proj, up_proj "
              "and down_proj of the experts");
  budget_ = static_cast<int64_t>(adapted_layers()) * num_experts_ * options_.r_target;
}

DrLoraScheduler::~DrLoraScheduler() = default;

int DrLoraScheduler::adapted_layers() const {
  return static_cast<int>(experts_.size()) / std::max(1, num_experts_);
}

void DrLoraScheduler::observe_routing(const std::vector<at::Tensor>& router_logits,
                                      int top_k,
                                      bool norm_topk_prob,
                                      const at::Tensor& token_mask) {
  observe_routing_weights(routing_observation(router_logits, top_k, norm_topk_prob, token_mask));
}

at::Tensor DrLoraScheduler::routing_observation(const std::vector<at::Tensor>& router_logits,
                                                int top_k,
                                                bool norm_topk_prob,
                                                const at::Tensor& token_mask) const {
  AP_CHECK(static_cast<int>(router_logits.size()) == num_layers_, "DR-LoRA: got router logits of ",
           router_logits.size(), " layers, the model has ", num_layers_);
  auto out = torch::zeros({num_layers_, num_experts_ + 1}, torch::kFloat64);  // [layers, N + 1]
  std::vector<int> layers;
  std::vector<torch::Tensor> weights;
  for (int l = 0; l < num_layers_; ++l) {
    const auto& logits = router_logits[static_cast<size_t>(l)];
    if (index_[static_cast<size_t>(l)][0] < 0 || !logits.defined()) continue;
    AP_CHECK(logits.dim() == 2 && logits.size(1) == num_experts_,
             "DR-LoRA: router logits of layer ", l, " must be [tokens, ", num_experts_, "]");
    layers.push_back(l);
    weights.push_back(mean_routing_weights(logits, top_k, norm_topk_prob, token_mask));
  }
  if (layers.empty()) return out;
  auto w = torch::stack(weights).to(torch::kCPU, torch::kFloat64).contiguous();  // [layers, N]
  for (size_t j = 0; j < layers.size(); ++j) {
    out[layers[j]].narrow(/*dim=*/0, 0, num_experts_).copy_(w[static_cast<int64_t>(j)]);
    out[layers[j]][num_experts_] = 1.0;
  }
  return out;
}

void DrLoraScheduler::observe_routing_weights(const at::Tensor& observation) {
  AP_CHECK(observation.dim() == 2 && observation.size(0) == num_layers_ &&
               observation.size(1) == num_experts_ + 1,
           "DR-LoRA: a routing observation must be [", num_layers_, ", ", num_experts_ + 1, "]");
  const auto obs = observation.to(torch::kCPU, torch::kFloat64).contiguous();
  const double* data = obs.data_ptr<double>();
  const double beta = options_.beta_f;
  for (int l = 0; l < num_layers_; ++l) {
    const double* row = data + static_cast<int64_t>(l) * (num_experts_ + 1);
    if (row[num_experts_] <= 0.0) continue;
    for (int i = 0; i < num_experts_; ++i) {
      auto& e = experts_[static_cast<size_t>(index_[static_cast<size_t>(l)][i])];
      e.frequency = beta * e.frequency + (1.0 - beta) * row[i];
    }
  }
}

void DrLoraScheduler::observe_gradients() {
  torch::NoGradGuard no_grad;
  const double beta = options_.beta_g;
  for (auto& e : experts_) {
    for (size_t p = 0; p < e.loras.size(); ++p) {
      const auto& lora = *e.loras[p];
      const int64_t k = lora.active_rank();
      auto importance = lora_component_importance(lora.lora_A, lora.lora_A.grad(), lora.lora_B,
                                                  lora.lora_B.grad(), k);  // [k]
      auto ema = e.importance_ema[p].narrow(/*dim=*/0, 0, k);              // [k]
      ema.mul_(beta).add_(importance, /*alpha=*/1.0 - beta);
    }
  }
}

std::vector<double> DrLoraScheduler::expert_importance() const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> means;
  means.reserve(experts_.size());
  for (const auto& e : experts_) {
    auto sum = torch::zeros({}, e.importance_ema[0].options());
    int64_t count = 0;
    for (size_t p = 0; p < e.loras.size(); ++p) {
      const int64_t k = e.loras[p]->active_rank();
      sum = sum + e.importance_ema[p].narrow(/*dim=*/0, 0, k).sum();
      count += k;
    }
    means.push_back(sum / static_cast<double>(std::max<int64_t>(count, 1)));
  }
  auto g = torch::stack(means).to(torch::kCPU, torch::kFloat64).contiguous();  // [L·N]
  return std::vector<double>(g.data_ptr<double>(), g.data_ptr<double>() + g.numel());
}

std::vector<double> DrLoraScheduler::expert_saliency(const std::vector<double>& g) const {
  std::vector<double> s(experts_.size(), 0.0);
  for (size_t first = 0; first < experts_.size(); first += static_cast<size_t>(num_experts_)) {
    std::vector<double> f_layer(static_cast<size_t>(num_experts_));
    std::vector<double> g_layer(static_cast<size_t>(num_experts_));
    for (size_t i = 0; i < f_layer.size(); ++i) {
      f_layer[i] = experts_[first + i].frequency;
      g_layer[i] = g[first + i];
    }
    const auto f_hat = normalise_by_layer_mean(f_layer);
    const auto g_hat = normalise_by_layer_mean(g_layer);
    for (size_t i = 0; i < f_layer.size(); ++i) {
      s[first + i] = combine_saliency(f_hat[i], g_hat[i], options_.saliency, options_.gamma);
    }
  }
  return s;
}

std::optional<DrLoraGrowthEvent> DrLoraScheduler::maybe_grow(int64_t step,
                                                             torch::optim::Optimizer& optimizer) {
  if (!schedule_.is_event(step)) return std::nullopt;
  DrLoraGrowthEvent event;
  event.step = step;
  event.budget = budget_;
  event.total_rank_before = total_rank();
  int64_t left = budget_ - event.total_rank_before;
  event.planned =
      GrowthSchedule::experts_to_grow(left, options_.delta_r, schedule_.events_from(step));
  const auto s = expert_saliency(expert_importance());
  std::vector<size_t> order(experts_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Highest saliency first; a non-finite score ranks last; ties keep (layer, expert) order.
  auto key = [&](size_t j) {
    return std::isfinite(s[j]) ? s[j] : -std::numeric_limits<double>::infinity();
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) > key(b); });
  // One grant of delta_r per expert below r_max and pass; only the last event makes further
  // passes, so that it spends what is left even when fewer experts than grants can grow.
  const bool last_event = schedule_.events_from(step) == 1;
  int64_t granted = 0;
  for (bool progress = true; progress && left > 0 && granted < event.planned;) {
    progress = false;
    for (size_t j : order) {
      auto& e = experts_[j];
      const int grow =
          static_cast<int>(std::min<int64_t>({options_.delta_r, options_.r_max - e.rank, left}));
      if (granted >= event.planned || left <= 0) break;
      if (grow <= 0) continue;
      for (auto& lora : e.loras) {
        const auto report = grow_lora_rank(*lora, e.rank + grow, &optimizer);
        event.b_columns_were_nonzero = event.b_columns_were_nonzero || report.b_was_nonzero;
      }
      event.grown.push_back(ExpertGrowth{e.layer, e.expert, e.rank, e.rank + grow, s[j]});
      e.rank += grow;
      left -= grow;
      ++granted;
      progress = true;
    }
    if (!last_event) break;
  }
  event.total_rank_after = total_rank();
  return event;
}

int64_t DrLoraScheduler::total_rank() const {
  return std::accumulate(experts_.begin(), experts_.end(), int64_t{0},
                         [](int64_t acc, const Expert& e) { return acc + e.rank; });
}

int DrLoraScheduler::rank(int layer, int expert) const {
  AP_CHECK(layer >= 0 && layer < num_layers_ && expert >= 0 && expert < num_experts_,
           "DR-LoRA: no expert ", expert, " in layer ", layer);
  const int j = index_[static_cast<size_t>(layer)][static_cast<size_t>(expert)];
  return j < 0 ? -1 : experts_[static_cast<size_t>(j)].rank;
}

std::vector<std::vector<int>> DrLoraScheduler::ranks() const {
  std::vector<std::vector<int>> out(static_cast<size_t>(num_layers_));
  for (int l = 0; l < num_layers_; ++l) {
    for (int i = 0; i < num_experts_; ++i) out[static_cast<size_t>(l)].push_back(rank(l, i));
  }
  return out;
}

std::vector<std::vector<double>> DrLoraScheduler::per_layer(
    const std::vector<double>& values) const {
  std::vector<std::vector<double>> out(
      static_cast<size_t>(num_layers_),
      std::vector<double>(static_cast<size_t>(num_experts_),
                          std::numeric_limits<double>::quiet_NaN()));
  for (size_t j = 0; j < experts_.size(); ++j) {
    out[static_cast<size_t>(experts_[j].layer)][static_cast<size_t>(experts_[j].expert)] =
        values[j];
  }
  return out;
}

std::vector<std::vector<double>> DrLoraScheduler::frequency() const {
  std::vector<double> f;
  for (const auto& e : experts_) f.push_back(e.frequency);
  return per_layer(f);
}

std::vector<std::vector<double>> DrLoraScheduler::importance() const {
  return per_layer(expert_importance());
}

std::vector<std::vector<double>> DrLoraScheduler::saliency() const {
  return per_layer(expert_saliency(expert_importance()));
}

std::vector<std::pair<std::string, torch::Tensor>> DrLoraScheduler::state() const {
  const auto n = static_cast<int64_t>(experts_.size());
  auto ranks = torch::empty({n}, torch::kInt64);
  auto freq = torch::empty({n}, torch::kFloat64);
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (int64_t x = 0; x < n; ++x) {
    const Expert& e = experts_[static_cast<size_t>(x)];
    ranks[x] = e.rank;
    freq[x] = e.frequency;
    for (size_t p = 0; p < e.importance_ema.size(); ++p) {
      out.emplace_back("importance/" + std::to_string(x) + "/" + std::to_string(p),
                       e.importance_ema[p].detach().cpu().clone());
    }
  }
  out.emplace_back("ranks", ranks);
  out.emplace_back("frequency", freq);
  return out;
}

void DrLoraScheduler::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  auto get = [&](const std::string& name, int64_t numel) {
    const auto it = by_name.find(name);
    AP_CHECK_AS(CheckpointError, it != by_name.end() && it->second.numel() == numel,
                "DR-LoRA state: '", name, "' is missing or of another size in the checkpoint");
    return it->second;
  };
  const auto n = static_cast<int64_t>(experts_.size());
  const auto ranks = get("ranks", n).to(torch::kInt64);
  const auto freq = get("frequency", n).to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (int64_t x = 0; x < n; ++x) {
    Expert& e = experts_[static_cast<size_t>(x)];
    e.rank = static_cast<int>(ranks[x].item<int64_t>());
    e.frequency = freq[x].item<double>();
    for (size_t p = 0; p < e.importance_ema.size(); ++p) {
      auto& ema = e.importance_ema[p];
      ema.copy_(get("importance/" + std::to_string(x) + "/" + std::to_string(p), ema.numel())
                    .reshape(ema.sizes()));
      e.loras[p]->set_active_rank(e.rank);
    }
  }
}

std::vector<MatrixPoint> DrLoraScheduler::records(int64_t step) const {
  std::vector<double> r, f;
  for (const auto& e : experts_) {
    r.push_back(e.rank);
    f.push_back(e.frequency);
  }
  const auto g = expert_importance();
  const auto s = expert_saliency(g);
  const int64_t wall = now_ms();
  auto point = [&](const char* key, const std::vector<double>& values) {
    MatrixPoint p;
    p.key = key;
    p.step = step;
    p.shape = {num_layers_, num_experts_};
    p.axes = "layer,expert";
    p.dtype = MatrixDType::F32;
    p.wall_ms = wall;
    for (const auto& row : per_layer(values)) {
      for (double v : row) p.f32.push_back(static_cast<float>(v));
    }
    return p;
  };
  return {point(matrix_keys::kDrRank, r), point(matrix_keys::kDrFrequency, f),
          point(matrix_keys::kDrImportance, g), point(matrix_keys::kDrSaliency, s)};
}

}  // namespace apportion
