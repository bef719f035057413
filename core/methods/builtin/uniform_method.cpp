// SPDX-License-Identifier: GPL-3.0-or-later
// Uniform LoRA-MoE: adapters.num_experts experts in every layer (the seam's defaults).
#include "core/allocation/strategies.h"
#include "core/methods/method_rows.h"

namespace apportion {
namespace {

class UniformMethod final : public Method {
 public:
  std::string name() const override { return "uniform"; }
  std::string label() const override { return "Uniform"; }
  std::string description() const override {
    return "LoRA-MoE with the same number of experts (adapters.num_experts) in every layer";
  }
  MethodTraits traits() const override {
    MethodTraits t;
    t.plain_lora_is_baseline = true;
    t.uses_num_experts = true;
    return t;
  }
};

}  // namespace

const Method& uniform_method() {
  static const UniformMethod kMethod;
  return kMethod;
}

}  // namespace apportion
