// SPDX-License-Identifier: GPL-3.0-or-later
// Exit codes of `apportion` (documented in --help and the README).
#pragma once

namespace apportion::cli {
inline constexpr int kExitFinished = 0;  ///< run FINISHED / command succeeded
inline constexpr int kExitFailed = 1;    ///< run FAILED (NaN loss, error during training)
inline constexpr int kExitUsage = 2;     ///< usage, config or input error before a run row exists
inline constexpr int kExitKilled = 3;    ///< run KILLED on request (SIGTERM/SIGINT), checkpointed
}  // namespace apportion::cli
