// SPDX-License-Identifier: GPL-3.0-or-later
// The Alpaca prompt template, verbatim (alpaca-lora templates/alpaca.json).
#include "core/data/prompt_template.h"

#include "core/common/error.h"

namespace apportion {

std::string render_prompt(const std::string& name,
                          const std::string& instruction,
                          const std::string& input) {
  if (name == "alpaca") {
    if (input.empty()) {
      return "Below is an instruction that describes a task. Write a response that appropriately "
             "completes the request.\n\n### Instruction:\n" +
             instruction + "\n\n### Response:\n";
    }
    return "Below is an instruction that describes a task, paired with an input that provides "
           "further context. Write a response that appropriately completes the request.\n\n"
           "### Instruction:\n" +
           instruction + "\n\n### Input:\n" + input + "\n\n### Response:\n";
  }
  if (name == "none") {
    if (input.empty()) return instruction;
    return instruction.empty() ? input : instruction + "\n" + input;
  }
  const std::string body = input.empty() ? instruction : instruction + "\n" + input;
  if (name == "qa") return "Question: " + body + "\nAnswer:";
  if (name == "choose") {
    return "Please choose the correct answer to the question: " + body + "\nAnswer:";
  }
  throw ConfigError("data.template: unknown template \"" + name +
                    "\" (known: alpaca, none, qa, choose)");
}

}  // namespace apportion
