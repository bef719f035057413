// SPDX-License-Identifier: GPL-3.0-or-later
// What the GUI does when a workspace database fails SQLite's quick_check: it says so and offers
// the way out — copy every readable run into a new workspace (core/store/store_copy.h), or open
// the damaged one to read (runs and Close refuse to write into it), or cancel.
//
// Intended usage (MainWindow::openWorkspace):
//   const QString path = checkWorkspaceIntegrity(this, dbPath);  // "" = cancelled
//   if (path.isEmpty()) return false;
#pragma once

#include <QString>

class QWidget;

namespace apportion {

/// `dbPath` when intact (or not an SQLite file: opening says why), the path the user chose to
/// open after the damage dialog (a new salvaged store, or `dbPath` to read it), or "" when
/// cancelled. With the environment variable APPORTION_DAMAGED_CHOICE set to "copy:NEW.sqlite",
/// "read" or "cancel" the dialog answers itself (tests, scripted screenshots).
QString checkWorkspaceIntegrity(QWidget* parent, const QString& dbPath);

}  // namespace apportion
