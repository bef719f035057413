// SPDX-License-Identifier: GPL-3.0-or-later
// The registry's rows: one accessor per method, each defined in that method's own file or
// folder under core/methods/. Adding a method = its folder + one line here and one in
// method_registry.cpp (+ its torch row in core/<method>/ and core/train/method_runtimes.cpp when it
// needs the model).
#pragma once

#include "core/methods/method.h"

namespace apportion {

const Method& lora_method();              // core/methods/builtin/lora_method.cpp
const Method& uniform_method();           // core/methods/builtin/uniform_method.cpp
const Method& mola_method();              // core/methods/builtin/mola_method.cpp
const Method& guilomo_method();           // core/methods/guilomo/
const Method& drlora_method();            // core/methods/drlora/
const Method& static_frequency_method();  // core/methods/drlora/
const Method& alphalora_method();         // core/methods/alphalora/
const Method& increlora_method();         // core/methods/increlora/

}  // namespace apportion
