// SPDX-License-Identifier: GPL-3.0-or-later
// The hook factory: the run's method (method_runtime.h) says what it adds to the loop.
#include "core/train/training_hooks.h"

#include "core/train/method_runtime.h"

namespace apportion {

std::unique_ptr<TrainingHooks> make_training_hooks(const HookContext& context) {
  return runtime_of(*context.cfg).hooks(context);
}

}  // namespace apportion
