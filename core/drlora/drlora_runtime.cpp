// SPDX-License-Identifier: GPL-3.0-or-later
// DR-LoRA's and the static-frequency baseline's torch rows of the method seam: their hooks
// (drlora_hooks.h); building and planning are the defaults (the routed experts' LoRAs come from
// the plan's expert_ranks).
#include "core/drlora/drlora_hooks.h"
#include "core/train/method_runtime.h"

namespace apportion {
namespace {

class RoutedExpertRuntime final : public MethodRuntime {
 public:
  explicit RoutedExpertRuntime(bool grows) : grows_(grows) {}
  std::unique_ptr<TrainingHooks> hooks(const HookContext& context) const override {
    return grows_ ? make_drlora_hooks(context) : make_static_frequency_hooks(context);
  }

 private:
  bool grows_;
};

}  // namespace

const MethodRuntime* drlora_runtime() {
  static const RoutedExpertRuntime kRuntime(true);
  return &kRuntime;
}

const MethodRuntime* static_frequency_runtime() {
  static const RoutedExpertRuntime kRuntime(false);
  return &kRuntime;
}

}  // namespace apportion
