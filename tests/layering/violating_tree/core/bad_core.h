// SPDX-License-Identifier: GPL-3.0-or-later
// Fixture: a core file that breaks the layering rule (never compiled).
#include <QString>
