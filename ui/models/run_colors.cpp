// SPDX-License-Identifier: GPL-3.0-or-later
// Stable per-run colours from a fixed palette (Tableau 10, with the
// light yellow, teal and grey darkened so thin lines stay visible on white).
#include "ui/models/run_colors.h"

#include <array>

namespace apportion::ui {

QColor runColor(const QString& runId) {
  static const std::array<QRgb, 10> kPalette = {0x4e79a7, 0xf28e2b, 0xe15759, 0x4f9e99, 0x59a14f,
                                                0xc49a1a, 0xb07aa1, 0xe8739a, 0x9c755f, 0x6b6ecf};
  // FNV-1a over the id: stable across sessions and platforms (qHash is seeded per process).
  quint32 h = 2166136261u;
  for (const QChar c : runId) {
    h ^= c.unicode();
    h *= 16777619u;
  }
  return QColor(kPalette[h % kPalette.size()]);
}

}  // namespace apportion::ui
