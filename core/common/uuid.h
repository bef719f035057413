// SPDX-License-Identifier: GPL-3.0-or-later
// Random 32-hex-digit run ids (UUID v4 without dashes), so run stores can be merged.
#pragma once

#include <string>

namespace apportion {
/// A new random UUID v4 as 32 lowercase hex digits.
std::string make_uuid_hex();
}  // namespace apportion
