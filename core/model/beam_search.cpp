// SPDX-License-Identifier: GPL-3.0-or-later
// Beam search (see beam_search.h), a port of transformers' BeamSearchScorer / BeamHypotheses
// (v4.29-v4.35) on top of the model's KV cache: the prompts run once on B rows, the cache is then
// repeated to B·K rows and reordered with KVCache::select_rows after every step. Scores
// accumulate in float64 (HF: float32), which only matters for near-ties.
// Legend: B prompts, K beams, L longest prompt, V vocab.
#include "core/model/beam_search.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/common/error.h"
#include "core/model/eval_mode.h"
#include "core/model/transformer_lm.h"

namespace apportion {
namespace {

struct Hypothesis {
  double score = 0.0;
  std::vector<int64_t> tokens;  ///< generated tokens, without the EOS
  int64_t eos = -1;             ///< the EOS id that ended it, -1 for a running beam
};

/// HF's BeamHypotheses: the num_beams best finished hypotheses of one prompt, in insertion
/// order (ties are broken as HF's stable sorts break them).
class BeamHypotheses {
 public:
  BeamHypotheses(int num_beams, double length_penalty)
      : num_beams_(num_beams), length_penalty_(length_penalty) {}

  void add(const std::vector<int64_t>& tokens, double sum_logprobs, int64_t length, int64_t eos) {
    const double score = sum_logprobs / std::pow(static_cast<double>(length), length_penalty_);
    if (static_cast<int>(beams_.size()) < num_beams_ || score > worst_) {
      beams_.push_back({score, tokens, eos});
      if (static_cast<int>(beams_.size()) > num_beams_) {
        // sorted((s, idx))[0] is deleted: the lowest score, the lowest index among ties.
        size_t w = 0;
        for (size_t i = 1; i < beams_.size(); ++i) {
          if (beams_[i].score < beams_[w].score) w = i;
        }
        beams_.erase(beams_.begin() + static_cast<std::ptrdiff_t>(w));
        worst_ = beams_.front().score;
        for (const auto& h : beams_) worst_ = std::min(worst_, h.score);
      } else {
        worst_ = std::min(score, worst_);
      }
    }
  }

  /// early_stopping False: done when the best running candidate, scored at the current length,
  /// cannot beat the worst kept hypothesis.
  bool is_done(double best_sum_logprobs, int64_t cur_len) const {
    if (static_cast<int>(beams_.size()) < num_beams_) return false;
    const double cur_score =
        best_sum_logprobs / std::pow(static_cast<double>(cur_len), length_penalty_);
    return worst_ >= cur_score;
  }

  /// sorted(beams, key=score).pop(): the highest score, the latest among ties.
  const Hypothesis& best() const {
    size_t b = 0;
    for (size_t i = 1; i < beams_.size(); ++i) {
      if (beams_[i].score >= beams_[b].score) b = i;
    }
    return beams_[b];
  }

 private:
  int num_beams_;
  double length_penalty_;
  std::vector<Hypothesis> beams_;
  double worst_ = 1e9;
};

}  // namespace

GenerationResult generate_beam(TransformerLM& model,
                               const std::vector<std::vector<int64_t>>& prompts,
                               const GenerationOptions& options,
                               int num_beams,
                               double length_penalty) {
  AP_CHECK_AS(ModelError, num_beams >= 1, "generate_beam: num_beams must be >= 1, got ", num_beams);
  // One beam is greedy search: HF's generate runs greedy_search for num_beams 1 (its beam
  // scorer refuses it, and the is_done rule above would not reduce to greedy).
  if (num_beams == 1) return generate_greedy(model, prompts, options);
  GenerationResult result;
  const auto b = static_cast<int64_t>(prompts.size());
  const int64_t k = num_beams;
  result.tokens.resize(prompts.size());
  result.stopped_at_eos.assign(prompts.size(), false);
  if (b == 0 || options.max_new_tokens <= 0) return result;

  const ModelConfig& cfg = model->config();
  std::vector<int64_t> eos = options.eos_token_ids;
  if (eos.empty()) {
    for (int id : cfg.eos_token_ids()) eos.push_back(id);
  }
  const int64_t pad = options.pad_token_id >= 0 ? options.pad_token_id
                      : cfg.pad_token_id >= 0   ? cfg.pad_token_id
                                                : 0;
  size_t longest = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    AP_CHECK_AS(ModelError, !prompts[i].empty(), "generate_beam: prompt ", i,
                " is empty; give at least one token (e.g. BOS)");
    for (int64_t id : prompts[i]) {
      AP_CHECK_AS(ModelError, id >= 0 && id < cfg.vocab_size, "generate_beam: prompt ", i,
                  " has token id ", id, " outside the vocabulary (vocab_size ", cfg.vocab_size,
                  ")");
    }
    longest = std::max(longest, prompts[i].size());
  }
  const auto l = static_cast<int64_t>(longest);
  auto ids = torch::full({b, l}, pad, torch::kInt64);  // [B, L], left padded
  auto mask = torch::zeros({b, l}, torch::kInt64);     // [B, L]
  for (int64_t i = 0; i < b; ++i) {
    const auto& p = prompts[static_cast<size_t>(i)];
    const auto start = l - static_cast<int64_t>(p.size());
    ids[i].narrow(0, start, static_cast<int64_t>(p.size())).copy_(torch::tensor(p, torch::kInt64));
    mask[i].narrow(0, start, static_cast<int64_t>(p.size())).fill_(1);
  }
  const auto device = model->parameters().front().device();
  const auto long_opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
  ids = ids.to(device);
  mask = mask.to(device);

  EvalMode eval_mode(model);
  torch::NoGradGuard no_grad;
  KVCache cache;
  // The prompts run once; every prompt's row is then repeated for its K beams.
  const auto expand = torch::arange(b, long_opts).repeat_interleave(k);  // [B*K]
  torch::Tensor logits = model->forward(ids, mask, options.use_cache ? &cache : nullptr);
  torch::Tensor last = logits.select(/*dim=*/1, l - 1).index_select(0, expand);  // [B*K, V]
  torch::Tensor full_ids, full_mask;  // [B*K, L + step], the no-cache path's whole rows
  if (options.use_cache) {
    cache.select_rows(expand);
  } else {
    full_ids = ids.index_select(0, expand);
    full_mask = mask.index_select(0, expand);
  }
  const int64_t v = last.size(1);
  const int64_t n_cand = std::min<int64_t>(2 * k, k * v);

  const auto rows = static_cast<size_t>(b * k);
  std::vector<double> beam_scores(rows, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    if (r % static_cast<size_t>(k) != 0) beam_scores[r] = -1e9;  // only beam 0 starts
  }
  std::vector<std::vector<int64_t>> seqs(rows);  // running beams' generated tokens
  std::vector<BeamHypotheses> hyps(prompts.size(), BeamHypotheses(num_beams, length_penalty));
  std::vector<bool> done(prompts.size(), false);
  int generated = 0;
  for (int step = 0; step < options.max_new_tokens; ++step) {
    auto logp = torch::log_softmax(last.to(torch::kFloat), /*dim=*/-1).to(torch::kDouble);
    auto running = torch::tensor(beam_scores, torch::kDouble).to(device).view({b * k, 1});
    auto next = (logp + running).view({b, k * v});  // [B, K*V]
    auto top = next.topk(n_cand, /*dim=*/1, /*largest=*/true, /*sorted=*/true);
    auto top_s = std::get<0>(top).to(torch::kCPU).contiguous();
    auto top_i = std::get<1>(top).to(torch::kCPU).contiguous();
    auto s_acc = top_s.accessor<double, 2>();
    auto i_acc = top_i.accessor<int64_t, 2>();

    std::vector<double> new_scores(rows, 0.0);
    std::vector<int64_t> new_tokens(rows, pad);
    std::vector<int64_t> source(rows, 0);
    for (int64_t p = 0; p < b; ++p) {
      const auto pi = static_cast<size_t>(p);
      if (done[pi]) {  // HF: pad tokens from beam 0, score 0
        for (int64_t j = 0; j < k; ++j) source[static_cast<size_t>(p * k + j)] = p * k;
        continue;
      }
      const int64_t cur_len = static_cast<int64_t>(prompts[pi].size()) + step;
      int64_t filled = 0;
      for (int64_t r = 0; r < n_cand && filled < k; ++r) {
        const double s = s_acc[p][r];
        const int64_t beam = i_acc[p][r] / v;
        const int64_t tok = i_acc[p][r] % v;
        const auto row = static_cast<size_t>(p * k + beam);
        if (std::find(eos.begin(), eos.end(), tok) != eos.end()) {
          if (r >= k) continue;  // an EOS below the top num_beams is not a hypothesis
          hyps[pi].add(seqs[row], s, cur_len, tok);
        } else {
          const auto slot = static_cast<size_t>(p * k + filled);
          new_scores[slot] = s;
          new_tokens[slot] = tok;
          source[slot] = static_cast<int64_t>(row);
          ++filled;
        }
      }
      // Only with several EOS ids can the candidates run out (HF raises); empty beams score -inf.
      for (int64_t j = filled; j < k; ++j) {
        const auto slot = static_cast<size_t>(p * k + j);
        new_scores[slot] = -std::numeric_limits<double>::infinity();
        source[slot] = p * k;
      }
      // transformers >= 4.27 pass the length the candidates were scored at (cur_len + 1; in
      // 4.27-4.28 it grew once per prompt of the batch, a bug fixed in 4.29 by PR #23127).
      done[pi] = hyps[pi].is_done(s_acc[p][0], cur_len + 1);
    }
    std::vector<std::vector<int64_t>> reordered(rows);
    for (size_t r = 0; r < rows; ++r) {
      reordered[r] = seqs[static_cast<size_t>(source[r])];
      reordered[r].push_back(new_tokens[r]);
    }
    seqs = std::move(reordered);
    beam_scores = std::move(new_scores);
    generated = step + 1;
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; }) ||
        generated == options.max_new_tokens) {
      break;
    }
    auto src = torch::tensor(source, torch::kInt64).to(device);  // [B*K]
    auto step_ids = torch::tensor(new_tokens, torch::kInt64).to(device).view({b * k, 1});
    auto step_mask = torch::ones({b * k, 1}, long_opts);
    if (options.use_cache) {
      cache.select_rows(src);
      logits = model->forward(step_ids, step_mask, &cache);  // [B*K, 1, V]
    } else {
      full_ids = torch::cat({full_ids.index_select(0, src), step_ids}, /*dim=*/1);
      full_mask = torch::cat({full_mask.index_select(0, src), step_mask}, /*dim=*/1);
      logits = model->forward(full_ids, full_mask);  // [B*K, L + step + 1, V]
    }
    last = logits.select(/*dim=*/1, logits.size(1) - 1);
  }
  for (int64_t p = 0; p < b; ++p) {
    const auto pi = static_cast<size_t>(p);
    if (!done[pi]) {  // finalize: the running beams join at their full length
      const int64_t length = static_cast<int64_t>(prompts[pi].size()) + generated;
      for (int64_t j = 0; j < k; ++j) {
        const auto row = static_cast<size_t>(p * k + j);
        hyps[pi].add(seqs[row], beam_scores[row], length, -1);
      }
    }
    const Hypothesis& best = hyps[pi].best();
    result.tokens[pi] = best.tokens;
    if (best.eos >= 0) {
      result.tokens[pi].push_back(best.eos);
      result.stopped_at_eos[pi] = true;
    }
  }
  return result;
}

}  // namespace apportion
