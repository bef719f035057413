// SPDX-License-Identifier: GPL-3.0-or-later
// Run-time loading of libap_sentencepiece and the SentencePieceModel wrapper around it.
#include "core/tokenizer/sentencepiece_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <type_traits>

#include "core/common/error.h"
#include "core/tokenizer/spm_shim/sentencepiece_shim.h"

namespace apportion::tok {

struct SentencePieceApi {
  decltype(&ap_spm_version) version = nullptr;
  decltype(&ap_spm_load) load = nullptr;
  decltype(&ap_spm_free) free = nullptr;
  decltype(&ap_spm_piece_size) piece_size = nullptr;
  decltype(&ap_spm_special_id) special_id = nullptr;
  decltype(&ap_spm_piece_type) piece_type = nullptr;
  decltype(&ap_spm_id_to_piece) id_to_piece = nullptr;
  decltype(&ap_spm_piece_to_id) piece_to_id = nullptr;
  decltype(&ap_spm_encode) encode = nullptr;
  decltype(&ap_spm_decode) decode = nullptr;
};

namespace {

constexpr const char* kModuleName = "libap_sentencepiece.so";
#if defined(__SANITIZE_ADDRESS__)
constexpr int kDeepBind = 0;  // ASan refuses RTLD_DEEPBIND (sanitizer runs: torch-free tests)
#else
constexpr int kDeepBind = RTLD_DEEPBIND;  // sentencepiece binds to its own protobuf-lite
#endif
constexpr size_t kErrorSize = 512;

/// Candidate paths of the module, most specific first.
std::vector<std::string> module_candidates() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  if (const char* env = std::getenv("AP_SENTENCEPIECE_SHIM")) out.emplace_back(env);
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&module_candidates), &info) != 0 && info.dli_fname) {
    std::error_code ec;
    const fs::path self = fs::canonical(info.dli_fname, ec);
    if (!ec) {
      const fs::path dir = self.parent_path();
      out.push_back((dir / ".." / "lib" / kModuleName).lexically_normal().string());
      out.push_back((dir / ".." / "lib" / "apportion" / kModuleName).lexically_normal().string());
      out.push_back((dir / kModuleName).string());
    }
  }
  return out;
}

const SentencePieceApi& load_api() {
  static std::once_flag once;
  static SentencePieceApi api;
  static std::string failure;
  std::call_once(once, [] {
    std::string tried;
    void* handle = nullptr;
    for (const std::string& path : module_candidates()) {
      if (!std::filesystem::exists(path)) {
        tried += " " + path;
        continue;
      }
      handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | kDeepBind);
      if (handle) break;
      tried += " " + path + " (" + dlerror() + ")";
    }
    if (handle == nullptr) {
      failure = std::string(kModuleName) + " (Apportion's SentencePiece module) not found; tried" +
                tried + "; rebuild or reinstall Apportion, or set AP_SENTENCEPIECE_SHIM";
      return;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
      if (fn == nullptr && failure.empty()) failure = std::string(kModuleName) + " lacks " + name;
    };
    sym(api.version, "ap_spm_version");
    sym(api.load, "ap_spm_load");
    sym(api.free, "ap_spm_free");
    sym(api.piece_size, "ap_spm_piece_size");
    sym(api.special_id, "ap_spm_special_id");
    sym(api.piece_type, "ap_spm_piece_type");
    sym(api.id_to_piece, "ap_spm_id_to_piece");
    sym(api.piece_to_id, "ap_spm_piece_to_id");
    sym(api.encode, "ap_spm_encode");
    sym(api.decode, "ap_spm_decode");
    if (failure.empty() && api.version() != AP_SPM_SHIM_VERSION) {
      failure = std::string(kModuleName) + " is from another Apportion version; reinstall it";
    }
  });
  if (!failure.empty()) throw TokenizerError(failure);
  return api;
}

}  // namespace

SentencePieceModel::SentencePieceModel(const std::string& path) : api_(&load_api()), path_(path) {
  char error[kErrorSize] = {0};
  model_ = api_->load(path.c_str(), error, sizeof(error));
  if (model_ == nullptr) {
    throw TokenizerError(path + ": not a readable SentencePiece model (" + error +
                         "); re-download tokenizer.model or provide tokenizer.json");
  }
}

SentencePieceModel::~SentencePieceModel() {
  if (model_) api_->free(model_);
}

int SentencePieceModel::piece_size() const { return api_->piece_size(model_); }
int SentencePieceModel::bos_id() const { return api_->special_id(model_, 'b'); }
int SentencePieceModel::eos_id() const { return api_->special_id(model_, 'e'); }
int SentencePieceModel::pad_id() const { return api_->special_id(model_, 'p'); }
bool SentencePieceModel::is_control(int id) const { return api_->piece_type(model_, id) & 1; }
bool SentencePieceModel::is_unknown(int id) const { return api_->piece_type(model_, id) & 2; }

std::string SentencePieceModel::id_to_piece(int id) const {
  size_t length = 0;
  const char* piece = api_->id_to_piece(model_, id, &length);
  return std::string(piece, length);
}

int SentencePieceModel::piece_to_id(std::string_view piece) const {
  return api_->piece_to_id(model_, piece.data(), piece.size());
}

std::vector<int> SentencePieceModel::encode(std::string_view text) const {
  std::vector<int> ids;
  char error[kErrorSize] = {0};
  auto sink = [](void* context, const int* data, size_t count) {
    static_cast<std::vector<int>*>(context)->assign(data, data + count);
  };
  if (api_->encode(model_, text.data(), text.size(), sink, &ids, error, sizeof(error)) != 0) {
    throw TokenizerError(path_ + ": encoding failed: " + error);
  }
  return ids;
}

std::string SentencePieceModel::decode(const std::vector<int>& ids) const {
  std::string text;
  char error[kErrorSize] = {0};
  auto sink = [](void* context, const char* data, size_t length) {
    static_cast<std::string*>(context)->assign(data, length);
  };
  if (api_->decode(model_, ids.data(), ids.size(), sink, &text, error, sizeof(error)) != 0) {
    throw TokenizerError(path_ + ": decoding failed: " + error);
  }
  return text;
}

}  // namespace apportion::tok
