// SPDX-License-Identifier: GPL-3.0-or-later
// The C interface of libap_sentencepiece, a small module around libsentencepiece that
// SentencePieceLibrary loads with dlopen(RTLD_LOCAL | RTLD_DEEPBIND). Debian's libsentencepiece
// exports its bundled protobuf-lite, which clashes with the libprotobuf that LibTorch loads
// (a crash at start-up when both are linked); loaded this way, each keeps its own copy.
// No memory crosses the boundary: results come back through sink callbacks.
#pragma once

#include <stddef.h>

extern "C" {

typedef struct ApSpm ApSpm;
/// Receives ids (encode) or text (decode); `context` is the caller's.
typedef void (*ApSpmIdsSink)(void* context, const int* ids, size_t count);
typedef void (*ApSpmTextSink)(void* context, const char* text, size_t length);

/// The interface version this header describes (checked after loading).
#define AP_SPM_SHIM_VERSION 1
int ap_spm_version(void);
/// A loaded model, or NULL with a message in `error` (NUL-terminated, at most `error_size`).
ApSpm* ap_spm_load(const char* path, char* error, size_t error_size);
void ap_spm_free(ApSpm* model);
int ap_spm_piece_size(const ApSpm* model);
/// bos/eos/pad/unk ids (negative when the model has none).
int ap_spm_special_id(const ApSpm* model, char which);
/// Piece type flags: 1 control, 2 unknown, 4 byte.
int ap_spm_piece_type(const ApSpm* model, int id);
/// The piece of `id` (valid while the model lives) and its length.
const char* ap_spm_id_to_piece(const ApSpm* model, int id, size_t* length);
int ap_spm_piece_to_id(const ApSpm* model, const char* piece, size_t length);
/// 0 on success; otherwise a message in `error`.
int ap_spm_encode(const ApSpm* model,
                  const char* text,
                  size_t length,
                  ApSpmIdsSink sink,
                  void* context,
                  char* error,
                  size_t error_size);
int ap_spm_decode(const ApSpm* model,
                  const int* ids,
                  size_t count,
                  ApSpmTextSink sink,
                  void* context,
                  char* error,
                  size_t error_size);
}
