// SPDX-License-Identifier: GPL-3.0-or-later
// Cross-file checks of a model folder (tokenizer against config.json) and of an experiment
// against its backbone (sequence length against positions).
#include "core/backbone/model_folder_check.h"

#include <optional>
#include <utility>
#include <vector>

#include "core/backbone/model_config.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion {

void check_tokenizer_fits_model(const Tokenizer& tokenizer,
                                const ModelConfig& model,
                                const std::string& folder) {
  const int64_t model_vocab = model.vocab_size;
  if (tokenizer.vocab_size() > model_vocab) {
    // Name the first id past the model's vocabulary, so a stray added token is easy to find.
    std::string example;
    if (const auto token = tokenizer.id_to_token(model_vocab)) {
      example = " (id " + std::to_string(model_vocab) + " is \"" + *token + "\")";
    }
    throw ModelError(folder + ": the tokenizer (" + tokenizer.kind() + ") has " +
                     std::to_string(tokenizer.vocab_size()) +
                     " tokens but config.json's vocab_size is " + std::to_string(model_vocab) +
                     example +
                     "; the tokenizer and the model do not belong together (re-download the "
                     "folder, or remove the added tokens beyond the vocabulary)");
  }
  const std::vector<std::pair<const char*, std::optional<int64_t>>> ids = {
      {"BOS", tokenizer.bos_id()}, {"EOS", tokenizer.eos_id()}, {"PAD", tokenizer.pad_id()}};
  for (const auto& [what, id] : ids) {
    if (id && (*id < 0 || *id >= model_vocab)) {
      throw ModelError(folder + ": the tokenizer's " + what + " id " + std::to_string(*id) +
                       " is outside config.json's vocab_size " + std::to_string(model_vocab) +
                       "; fix the tokenizer's special tokens or the model's vocab_size");
    }
  }
}

void check_experiment_fits_model(const ExperimentConfig& cfg, const ModelConfig& model) {
  if (cfg.data.max_seq_len > model.max_position_embeddings) {
    const std::string config_path = cfg.backbone.path.empty() ? std::string("backbone.config")
                                                              : cfg.backbone.path + "/config.json";
    throw ConfigError("data.max_seq_len: " + std::to_string(cfg.data.max_seq_len) +
                      " is longer than the model's max_position_embeddings " +
                      std::to_string(model.max_position_embeddings) + " (" + config_path +
                      "); set data.max_seq_len to at most " +
                      std::to_string(model.max_position_embeddings));
  }
}

}  // namespace apportion
