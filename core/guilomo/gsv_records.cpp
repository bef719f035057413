// SPDX-License-Identifier: GPL-3.0-or-later
// GSV and current-allocation matrix records of a GuiLoMo search.
#include "core/guilomo/gsv_records.h"

#include <algorithm>
#include <limits>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/store/matrix_keys.h"

namespace apportion {
namespace {

MatrixPoint make_point(const char* key,
                       int64_t step,
                       std::vector<int64_t> shape,
                       const char* axes,
                       MatrixDType dtype) {
  MatrixPoint p;
  p.key = key;
  p.step = step;
  p.shape = std::move(shape);
  p.axes = axes;
  p.dtype = dtype;
  p.wall_ms = now_ms();
  return p;
}

}  // namespace

std::vector<MatrixPoint> gsv_records(const std::vector<GsvModuleValues>& values,
                                     const GuiLoMoReadoutOptions& options,
                                     int64_t step) {
  if (values.empty()) return {};
  const auto allocation = read_allocation(values, options);
  // Axes: layers 0..max, modules in canonical order.
  std::vector<GuiLoMoModuleAllocation> order = allocation.modules;
  std::vector<std::string> modules;
  int layers = 0;
  for (const auto& m : order) {
    AP_CHECK(m.layer >= 0, m.path, ": no layer index in the module path; records need one");
    layers = std::max(layers, m.layer + 1);
  }
  for (auto& m : order) m.layer = 0;  // sort by module order only
  sort_modules(order);
  for (const auto& m : order) {
    if (std::find(modules.begin(), modules.end(), m.module) == modules.end()) {
      modules.push_back(m.module);
    }
  }
  const int64_t n_layers = layers, n_modules = static_cast<int64_t>(modules.size());
  const int64_t e = options.n_max, r = options.r_max;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto expert = make_point(matrix_keys::kGsvExpert, step, {n_layers, n_modules, e},
                           "layer,module,expert", MatrixDType::F32);
  auto rank = make_point(matrix_keys::kGsvRank, step, {n_layers, n_modules, e, r},
                         "layer,module,expert,rank", MatrixDType::F32);
  auto experts = make_point(matrix_keys::kAllocExperts, step, {n_layers, n_modules}, "layer,module",
                            MatrixDType::I32);
  auto ranks = make_point(matrix_keys::kAllocRank, step, {n_layers, n_modules, e},
                          "layer,module,expert", MatrixDType::I32);
  expert.f32.assign(static_cast<size_t>(n_layers * n_modules * e), nan);
  rank.f32.assign(static_cast<size_t>(n_layers * n_modules * e * r), nan);
  experts.i32.assign(static_cast<size_t>(n_layers * n_modules), -1);
  ranks.i32.assign(static_cast<size_t>(n_layers * n_modules * e), -1);
  for (const auto& v : values) {
    const auto* a = allocation.find(v.path);
    const auto mod = static_cast<int64_t>(std::find(modules.begin(), modules.end(), a->module) -
                                          modules.begin());
    const auto cell = static_cast<size_t>(a->layer * n_modules + mod);
    experts.i32[cell] = a->experts;
    for (int64_t i = 0; i < e; ++i) {
      const auto slot = cell * static_cast<size_t>(e) + static_cast<size_t>(i);
      expert.f32[slot] = v.expert[static_cast<size_t>(i)];
      if (i < a->experts) ranks.i32[slot] = a->ranks[static_cast<size_t>(i)];
      for (int64_t j = 0; j < r; ++j) {
        rank.f32[slot * static_cast<size_t>(r) + static_cast<size_t>(j)] =
            v.rank[static_cast<size_t>(i)][static_cast<size_t>(j)];
      }
    }
  }
  return {expert, rank, experts, ranks};
}

}  // namespace apportion
