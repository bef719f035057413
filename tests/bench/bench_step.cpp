// SPDX-License-Identifier: GPL-3.0-or-later
// Step time of one adapted projection: forward + backward + AdamW over the adapter parameters,
// with the frozen base GEMM included (the input requires grad, as for a layer inside a deep
// network, so the backward also pays dX through W0). Variants:
//   frozen      the same projection with no adapter (forward + dX only: the floor)
//   lora        plain LoRA r = 8
//   moe_stacked LoRA-MoE, 8 experts of rank 8, top-2, two GEMMs (MoeLoraAdapterImpl::delta)
//   moe_naive   the same adapter, delta computed by the per-expert loop (moe_lora_delta_naive)
// Shapes: tiny (64 → 64, 512 tokens) and a LLaMA-7B projection (4096 → 4096, 512 tokens).
// Then whole decoder layers of the LLaMA-2-7B shape (bench_layer.h: frozen / LoRA / LoRA-MoE
// on all 7 projections, 256 tokens) and the machine's GEMM rate (gemm/…), which give an MFU.
// After the table, the program prints the ratios (moe_stacked / frozen, moe_stacked / lora,
// moe_naive / moe_stacked per shape; the same for the layers) and the MFU of each layer step.
// One thread (torch and OpenBLAS) unless AP_BENCH_THREADS (AP_BENCH_BLAS_THREADS: OpenBLAS's
// alone). Legend: N tokens, Din/Dout features, E
// experts, R rank.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "bench_layer.h"
#include "core/adapters/adaptable_linear.h"
#include "core/adapters/lora_adapter.h"
#include "core/adapters/moe_lora_adapter.h"
#include "core/train/blas_threads.h"

namespace {

using namespace apportion;

enum class Variant { Frozen, Lora, MoeStacked, MoeNaive };

void step_benchmark(benchmark::State& state, Variant variant, int64_t din, int64_t dout) {
  constexpr int64_t kTokens = 512;  // N: e.g. micro-batch 2 × 256 tokens
  torch::manual_seed(0);
  AdaptableLinear base(din, dout, /*bias=*/false);
  base->weight.requires_grad_(false);  // frozen W0 [Dout, Din]
  std::shared_ptr<MoeLoraAdapterImpl> moe;
  if (variant == Variant::Frozen) {
    // no adapter: the base projection alone
  } else if (variant == Variant::Lora) {
    base->set_adapter(std::make_shared<LoraAdapterImpl>(din, dout, 8, 16.0, 0.0));
  } else {
    moe = std::make_shared<MoeLoraAdapterImpl>(din, dout, std::vector<int>(8, 8), 2, 16.0, 0.0);
    base->set_adapter(moe);
  }
  std::vector<torch::Tensor> params;
  for (auto& p : base->parameters()) {
    if (p.requires_grad()) params.push_back(p);
  }
  {
    torch::NoGradGuard no_grad;
    for (auto& p : params) p.normal_(0.0, 0.02);  // non-zero B: every path does real work
  }
  std::optional<torch::optim::AdamW> opt;
  if (!params.empty()) opt.emplace(params, torch::optim::AdamWOptions(1e-4).weight_decay(0.0));
  auto x = torch::randn({kTokens, din}).requires_grad_(true);  // [N, Din]
  for (auto _ : state) {
    if (opt) opt->zero_grad();
    x.mutable_grad() = torch::Tensor();
    torch::Tensor y;
    if (variant == Variant::MoeNaive) {
      y = torch::linear(x, base->weight) + moe_lora_delta_naive(*moe, x);  // [N, Dout]
    } else {
      y = base(x);  // [N, Dout]
    }
    y.pow(2).mean().backward();
    if (opt) opt->step();
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kTokens);
  state.counters["tokens"] = static_cast<double>(kTokens);
}

/// Console output plus a ratio summary at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Iteration) times_[r.benchmark_name()] = r.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void print_ratios() const {
    for (const char* shape : {"tiny", "7b_4096x4096"}) {
      const double frozen = find("step/frozen/", shape), lora = find("step/lora/", shape),
                   stacked = find("step/moe_stacked/", shape),
                   naive = find("step/moe_naive/", shape);
      if (frozen > 0 && lora > 0 && stacked > 0 && naive > 0) {
        std::printf(
            "ratio %-14s moe_stacked/frozen = %.2f   moe_stacked/lora = %.2f   lora/frozen = "
            "%.2f   moe_naive/moe_stacked = %.2f\n",
            shape, stacked / frozen, stacked / lora, lora / frozen, naive / stacked);
      }
    }
    const double frozen = find("layer/frozen/", ""), lora = find("layer/lora/", ""),
                 moe = find("layer/moe/", ""), gemm = find("gemm/", "");
    if (frozen > 0 && lora > 0 && moe > 0) {
      std::printf("ratio %-14s moe/frozen = %.2f   moe/lora = %.2f   lora/frozen = %.2f\n",
                  "7b_layer", moe / frozen, moe / lora, lora / frozen);
    }
    if (gemm > 0) {
      // Times are in the benchmarks' unit (ms).
      const double rate = bench::gemm_flops() / (gemm * 1e-3);
      std::printf("gemm rate %.1f GFLOP/s (fp32, 512x4096x4096)\n", rate / 1e9);
      for (const auto& [v, t] : {std::pair{"frozen", frozen}, {"lora", lora}, {"moe", moe}}) {
        if (t <= 0) continue;
        const double achieved = bench::layer_step_flops(v) / (t * 1e-3);
        std::printf("mfu 7b_layer/%-7s %.1f GFLOP/s = %.0f %% of the gemm rate\n", v,
                    achieved / 1e9, 100.0 * achieved / rate);
      }
    }
  }

 private:
  /// Time of the first benchmark whose name starts with prefix and contains infix; -1 if none.
  double find(const std::string& prefix, const std::string& infix) const {
    for (const auto& [name, t] : times_) {
      if (name.rfind(prefix, 0) == 0 && name.find(infix) != std::string::npos) return t;
    }
    return -1.0;
  }
  std::map<std::string, double> times_;
};

void register_all() {
  struct Shape {
    const char* name;
    int64_t din, dout;
    bool big;
  };
  const Shape shapes[] = {{"tiny", 64, 64, false}, {"7b_4096x4096", 4096, 4096, true}};
  const std::pair<const char*, Variant> variants[] = {{"frozen", Variant::Frozen},
                                                      {"lora", Variant::Lora},
                                                      {"moe_stacked", Variant::MoeStacked},
                                                      {"moe_naive", Variant::MoeNaive}};
  for (const auto& s : shapes) {
    for (const auto& [vname, v] : variants) {
      const std::string name = std::string("step/") + vname + "/" + s.name;
      auto* b = benchmark::RegisterBenchmark(
          name.c_str(), [v = v, s](benchmark::State& st) { step_benchmark(st, v, s.din, s.dout); });
      b->Unit(benchmark::kMillisecond)->UseRealTime();
      if (s.big) {
        b->Iterations(3);
      } else {
        b->MinTime(0.5);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* threads = std::getenv("AP_BENCH_THREADS");
  const int n = threads ? std::atoi(threads) : 1;
  torch::set_num_threads(n);
  // OpenBLAS's own pool too, or "one thread" runs GEMMs on every core; AP_BENCH_BLAS_THREADS
  // sets it apart from torch's (to see which pool costs what).
  const char* blas = std::getenv("AP_BENCH_BLAS_THREADS");
  set_blas_threads(blas ? std::atoi(blas) : n);
  register_all();
  bench::register_layer_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
