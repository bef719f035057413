// SPDX-License-Identifier: GPL-3.0-or-later
// Fixture: a UI file that breaks the layering rule (never compiled).
#include <torch/torch.h>
