// SPDX-License-Identifier: GPL-3.0-or-later
// Single-sequence post-processing (special tokens around the ids) from tokenizer.json.
#include "core/tokenizer/post_processor.h"

namespace apportion::tok {
namespace {

/// The ids of a TemplateProcessing special token name, from its "special_tokens" table.
std::vector<int64_t> template_special_ids(const JsonField& node, const std::string& name) {
  const JsonField table = node.at("special_tokens");
  table.require_object();
  auto entry = table.find(name);
  if (!entry) {
    node.at("special_tokens")
        .fail("has no entry \"" + name + "\" used by the single template",
              "the file is corrupt; re-download it");
  }
  const JsonField ids = entry->at("ids");
  std::vector<int64_t> out;
  for (size_t i = 0; i < ids.array_size(); ++i) out.push_back(ids.at(i).as_int());
  return out;
}

}  // namespace

PostProcessor PostProcessor::parse(const JsonField& node) {
  PostProcessor p;
  if (!node.is_null()) p.parse_into(node);
  return p;
}

void PostProcessor::parse_into(const JsonField& node) {
  const JsonField type_field = node.at("type");
  const std::string type = type_field.as_string();
  if (type == "ByteLevel") return;  // only adjusts offsets
  if (type == "Sequence") {
    const JsonField list = node.at("processors");
    for (size_t i = 0; i < list.array_size(); ++i) parse_into(list.at(i));
    return;
  }
  if (has_template_) {
    node.fail("a second template post-processor", "keep one TemplateProcessing in the Sequence");
  }
  has_template_ = true;
  if (type == "TemplateProcessing") {
    const JsonField single = node.at("single");
    bool seen_sequence = false;
    for (size_t i = 0; i < single.array_size(); ++i) {
      const JsonField piece = single.at(i);
      piece.require_object();
      if (auto special = piece.find("SpecialToken")) {
        const auto ids = template_special_ids(node, special->at("id").as_string());
        auto& target = seen_sequence ? after_ : before_;
        target.insert(target.end(), ids.begin(), ids.end());
      } else if (auto seq = piece.find("Sequence")) {
        const std::string id = seq->at("id").as_string();
        if (id != "A" || seen_sequence) {
          seq->fail("a single-sequence template must hold $A once", "the file is corrupt");
        }
        seen_sequence = true;
      } else {
        piece.fail("expected {\"SpecialToken\": …} or {\"Sequence\": …}", "the file is corrupt");
      }
    }
    if (!seen_sequence) single.fail("has no $A", "the file is corrupt");
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    // "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]
    for (const char* key : {"cls", "sep"}) {
      const int64_t id = node.at(key).at(1).as_int();
      (std::string(key) == "cls" ? before_ : after_).push_back(id);
    }
    return;
  }
  type_field.fail("unsupported \"" + type + "\"",
                  "supported post-processors: TemplateProcessing, ByteLevel, Sequence, "
                  "BertProcessing, RobertaProcessing");
}

std::vector<int64_t> PostProcessor::apply(std::vector<int64_t> ids) const {
  if (before_.empty() && after_.empty()) return ids;
  std::vector<int64_t> out;
  out.reserve(before_.size() + ids.size() + after_.size());
  out.insert(out.end(), before_.begin(), before_.end());
  out.insert(out.end(), ids.begin(), ids.end());
  out.insert(out.end(), after_.begin(), after_.end());
  return out;
}

std::optional<int64_t> PostProcessor::leading_special() const {
  if (before_.empty()) return std::nullopt;
  return before_.front();
}

std::optional<int64_t> PostProcessor::trailing_special() const {
  if (after_.empty()) return std::nullopt;
  return after_.front();
}

}  // namespace apportion::tok
