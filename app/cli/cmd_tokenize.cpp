// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion tokenize MODEL_DIR [--no-special] [--decode]`: one text per stdin line -> one JSON
// array of ids per stdout line (the model folder's tokenizer, Hugging Face-exact); with
// --decode, one JSON array of ids per line -> one JSON string per line.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion::cli {

int run_tokenize(const std::string& model_dir, bool no_special, bool decode) {
  std::unique_ptr<Tokenizer> tokenizer;
  try {
    tokenizer = load_tokenizer(model_dir);
  } catch (const TokenizerError& e) {
    print_error(e.what(),
                "MODEL_DIR must hold tokenizer.json, tokenizer.model or a config.json "
                "with \"apportion_tokenizer\": \"byte\"");
    return kExitUsage;
  }
  std::ios::sync_with_stdio(false);
  std::string line;
  size_t line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    const std::string where = "stdin line " + std::to_string(line_number) + ": ";
    try {
      if (decode) {
        const auto parsed = parse_json_bounded(line, JsonLimits::line());
        std::vector<int64_t> ids;
        for (const auto& v : parsed.is_array() ? parsed : nlohmann::json::array({parsed})) {
          const auto id = v.is_number_integer() ? json_to_integer<int64_t>(v) : std::nullopt;
          if (!parsed.is_array() || !id) {
            throw JsonInputError("element " + std::to_string(ids.size()),
                                 v.dump() + " is not a token id", 0);
          }
          ids.push_back(*id);
        }
        const std::string text = tokenizer->decode(ids, /*skip_special_tokens=*/no_special);
        std::cout << nlohmann::json(text).dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace)
                  << '\n';
      } else {
        std::cout << nlohmann::json(tokenizer->encode(line, !no_special)).dump() << '\n';
      }
    } catch (const TokenizerError& e) {
      print_error(where + e.what());
      return kExitUsage;
    } catch (const JsonInputError& e) {
      print_error(where + "expected a JSON array of token ids (" + e.what() + ")",
                  "--decode reads lines such as [128000, 9906, 1917]");
      return kExitUsage;
    }
  }
  std::cout.flush();
  return kExitFinished;
}

}  // namespace apportion::cli
