// SPDX-License-Identifier: GPL-3.0-or-later
// BackendQueries backed by the `apportion` CLI: `apportion devices` and
// `apportion inspect --json DIR`, run as short child processes (the GUI never links LibTorch).
#pragma once

#include <QString>

#include "ui/widgets/backend_queries.h"

namespace apportion {

/// Queries that call `apportionExe`; empty functions when the executable is missing.
ui::BackendQueries make_cli_queries(const QString& apportionExe);

}  // namespace apportion
