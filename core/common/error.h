// SPDX-License-Identifier: GPL-3.0-or-later
// Exception types of the core and the AP_CHECK macro (a TORCH_CHECK-like precondition check).
// Core code throws; only main() decides exit codes. Messages say what to do next.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace apportion {

/// Base of every error Apportion reports to a user.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A config file or override is invalid; the message starts with the JSON path.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// The run store failed or a database file is malformed.
class StoreError : public Error {
 public:
  using Error::Error;
};

/// A model, its config.json or its weights are inconsistent.
class ModelError : public Error {
 public:
  using Error::Error;
};

/// A checkpoint or tensor file is missing, truncated or malformed.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

/// A dataset or data suite is malformed.
class DataError : public Error {
 public:
  using Error::Error;
};

/// A tokenizer file (tokenizer.json, tokenizer.model) is missing, malformed or unsupported.
class TokenizerError : public Error {
 public:
  using Error::Error;
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <typename T, typename... Rest>
void append_all(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  append_all(out, rest...);
}
/// Concatenates the streamable arguments into one string.
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  append_all(out, args...);
  return out.str();
}
}  // namespace detail

}  // namespace apportion

/// Throws ErrorType with the concatenated message when cond is false.
#define AP_CHECK_AS(ErrorType, cond, ...)                        \
  do {                                                           \
    if (!(cond)) {                                               \
      throw ErrorType(::apportion::detail::concat(__VA_ARGS__)); \
    }                                                            \
  } while (false)

/// Precondition check on inputs: throws apportion::Error with file:line.
#define AP_CHECK(cond, ...) \
  AP_CHECK_AS(::apportion::Error, cond, __VA_ARGS__, " [", __FILE__, ":", __LINE__, "]")
