// SPDX-License-Identifier: GPL-3.0-or-later
// libap_sentencepiece: libsentencepiece behind the C interface of sentencepiece_shim.h. Built as
// a separate module (not part of ap_core) so that it can be loaded with RTLD_DEEPBIND.
#include "core/tokenizer/spm_shim/sentencepiece_shim.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

struct ApSpm {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

void copy_error(const std::string& message, char* error, size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  const size_t n = std::min(message.size(), error_size - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int ap_spm_version(void) { return AP_SPM_SHIM_VERSION; }

__attribute__((visibility("default"))) ApSpm* ap_spm_load(const char* path,
                                                          char* error,
                                                          size_t error_size) {
  try {
    auto* model = new ApSpm;
    const auto status = model->processor.Load(path);
    if (status.ok()) return model;
    copy_error(status.ToString(), error, error_size);
    delete model;
  } catch (const std::exception& e) {
    copy_error(e.what(), error, error_size);
  }
  return nullptr;
}

__attribute__((visibility("default"))) void ap_spm_free(ApSpm* model) { delete model; }

__attribute__((visibility("default"))) int ap_spm_piece_size(const ApSpm* model) {
  return model->processor.GetPieceSize();
}

__attribute__((visibility("default"))) int ap_spm_special_id(const ApSpm* model, char which) {
  switch (which) {
    case 'b':
      return model->processor.bos_id();
    case 'e':
      return model->processor.eos_id();
    case 'p':
      return model->processor.pad_id();
    case 'u':
      return model->processor.unk_id();
    default:
      return -1;
  }
}

__attribute__((visibility("default"))) int ap_spm_piece_type(const ApSpm* model, int id) {
  const auto& p = model->processor;
  return (p.IsControl(id) ? 1 : 0) | (p.IsUnknown(id) ? 2 : 0) | (p.IsByte(id) ? 4 : 0);
}

__attribute__((visibility("default"))) const char* ap_spm_id_to_piece(const ApSpm* model,
                                                                      int id,
                                                                      size_t* length) {
  const std::string& piece = model->processor.IdToPiece(id);
  *length = piece.size();
  return piece.data();
}

__attribute__((visibility("default"))) int ap_spm_piece_to_id(const ApSpm* model,
                                                              const char* piece,
                                                              size_t length) {
  return model->processor.PieceToId(std::string_view(piece, length));
}

__attribute__((visibility("default"))) int ap_spm_encode(const ApSpm* model,
                                                         const char* text,
                                                         size_t length,
                                                         ApSpmIdsSink sink,
                                                         void* context,
                                                         char* error,
                                                         size_t error_size) {
  try {
    std::vector<int> ids;
    const auto status = model->processor.Encode(std::string_view(text, length), &ids);
    if (!status.ok()) {
      copy_error(status.ToString(), error, error_size);
      return 1;
    }
    sink(context, ids.data(), ids.size());
    return 0;
  } catch (const std::exception& e) {
    copy_error(e.what(), error, error_size);
    return 1;
  }
}

__attribute__((visibility("default"))) int ap_spm_decode(const ApSpm* model,
                                                         const int* ids,
                                                         size_t count,
                                                         ApSpmTextSink sink,
                                                         void* context,
                                                         char* error,
                                                         size_t error_size) {
  try {
    std::string text;
    const auto status = model->processor.Decode(std::vector<int>(ids, ids + count), &text);
    if (!status.ok()) {
      copy_error(status.ToString(), error, error_size);
      return 1;
    }
    sink(context, text.data(), text.size());
    return 0;
  } catch (const std::exception& e) {
    copy_error(e.what(), error, error_size);
    return 1;
  }
}

}  // extern "C"
