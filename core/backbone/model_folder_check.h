// SPDX-License-Identifier: GPL-3.0-or-later
// Cross-file checks of a model folder and of an experiment against its backbone, done before any
// weight is read: the tokenizer's ids (vocabulary, BOS/EOS/PAD, added tokens) must fit the
// config's vocab_size, and the experiment's sequence length the model's positions. (Weights
// against config.json are checked tensor by tensor when they load: core/model/pretrained_io.)
//
// Intended usage:
//   const ModelConfig model = ModelConfig::from_json(j, "models/x/config.json");
//   check_tokenizer_fits_model(*load_tokenizer("models/x"), model, "models/x");  // ModelError
//   check_experiment_fits_model(cfg, model);                                      // ConfigError
#pragma once

#include <string>

namespace apportion {

struct ModelConfig;
struct ExperimentConfig;
class Tokenizer;

/// Throws ModelError naming the folder, the token or id, and what to do when the tokenizer can
/// produce an id the model has no embedding for.
void check_tokenizer_fits_model(const Tokenizer& tokenizer,
                                const ModelConfig& model,
                                const std::string& folder);

/// Throws ConfigError when data.max_seq_len exceeds the model's max_position_embeddings; the
/// message names where the model config came from (backbone.config, or the folder's
/// config.json).
void check_experiment_fits_model(const ExperimentConfig& cfg, const ModelConfig& model);

}  // namespace apportion
