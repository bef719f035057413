// SPDX-License-Identifier: GPL-3.0-or-later
// Prompt templates for instruction data (METHODS.md §1.5): the Alpaca template with and without
// an input, as in alpaca-lora's templates/alpaca.json that MoLA and GuiLoMo use, and "none"
// (instruction and input joined as they are).
#pragma once

#include <string>

namespace apportion {

/// The prompt for one example; `name` is "alpaca", "none", "qa" (lm-evaluation-harness style
/// "Question: …\nAnswer:") or "choose" (MoE-PEFT's "Please choose the correct answer to the
/// question: …\nAnswer:"; the options belong in the instruction). ConfigError naming
/// data.template otherwise. The response is appended after the prompt without a separator.
std::string render_prompt(const std::string& name,
                          const std::string& instruction,
                          const std::string& input);

}  // namespace apportion
