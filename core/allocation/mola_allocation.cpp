// SPDX-License-Identifier: GPL-3.0-or-later
// MoLA (Gao et al., "Higher Layers Need More LoRA Experts", arXiv 2402.08562; NAACL Findings
// 2025): layer-wise expert allocation — a named block preset (e.g. 2-4-6-8 over four equal layer
// blocks) or an explicit per-layer list sets each layer's expert count; ranks stay uniform.
#include "core/allocation/strategies.h"
#include "core/common/error.h"

namespace apportion {
namespace {

struct Preset {
  const char* name;
  std::vector<int> blocks;
  const char* note;
};

const std::vector<Preset>& presets() {
  static const std::vector<Preset> kPresets = {
      {"2468", {2, 4, 6, 8}, "more experts in higher layers (MoLA default, v1 headline)"},
      {"8642", {8, 6, 4, 2}, "mirror image: more experts in lower layers"},
      {"diamond", {3, 7, 7, 3}, "more experts in the middle layers (NAACL headline; our counts)"},
      {"uniform", {5, 5, 5, 5}, "same total as 2468, spread evenly (5555)"},
      {"8888", {8, 8, 8, 8}, "uniform, large (GuiLoMo's supernet)"},
  };
  return kPresets;
}

class MolaAllocation : public AllocationStrategy {
 public:
  ExpertAllocation allocate(const ModelShape& shape,
                            const AllocationBudget& budget) const override {
    if (!budget.explicit_experts.empty()) {
      return allocation_from_counts(checked_explicit_counts(budget, shape), budget);
    }
    return allocation_from_counts(
        expand_blocks(mola_preset_blocks(budget.preset), shape.num_layers), budget);
  }
};

}  // namespace

std::vector<int> mola_preset_blocks(const std::string& preset) {
  for (const auto& p : presets()) {
    if (preset == p.name) return p.blocks;
  }
  std::string known;
  for (const auto& p : presets()) known += (known.empty() ? "" : ", ") + std::string(p.name);
  throw ConfigError("allocation.preset: unknown MoLA preset \"" + preset + "\" (known: " + known +
                    ")");
}

std::vector<std::string> mola_preset_names() {
  std::vector<std::string> out;
  for (const auto& p : presets()) out.emplace_back(p.name);
  return out;
}

std::unique_ptr<AllocationStrategy> make_mola_strategy() {
  return std::make_unique<MolaAllocation>();
}

}  // namespace apportion
