// SPDX-License-Identifier: GPL-3.0-or-later
// SentencePieceLibrary: loads libap_sentencepiece (the module around libsentencepiece, see
// spm_shim/sentencepiece_shim.h) with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) on first use, and
// SentencePieceModel: one tokenizer.model loaded through it. The module is searched in
// $AP_SENTENCEPIECE_SHIM, then lib/ and lib/apportion/ beside the executable's bin/ folder.
#pragma once

#include <string>
#include <string_view>
#include <vector>

struct ApSpm;

namespace apportion::tok {

struct SentencePieceApi;

class SentencePieceModel {
 public:
  /// Loads `path`; TokenizerError names the file (or the missing module) and what to do.
  explicit SentencePieceModel(const std::string& path);
  ~SentencePieceModel();
  SentencePieceModel(const SentencePieceModel&) = delete;
  SentencePieceModel& operator=(const SentencePieceModel&) = delete;

  int piece_size() const;
  int bos_id() const;  ///< negative when the model has none
  int eos_id() const;
  int pad_id() const;
  bool is_control(int id) const;
  bool is_unknown(int id) const;
  std::string id_to_piece(int id) const;
  int piece_to_id(std::string_view piece) const;
  std::vector<int> encode(std::string_view text) const;
  std::string decode(const std::vector<int>& ids) const;

 private:
  const SentencePieceApi* api_;
  ApSpm* model_ = nullptr;
  std::string path_;
};

}  // namespace apportion::tok
