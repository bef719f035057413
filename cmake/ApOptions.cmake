# SPDX-License-Identifier: GPL-3.0-or-later
# INTERFACE targets carrying the project's language level, definitions and warnings.
# Every target links ap_options and ap_warnings PRIVATE; nothing uses include_directories.

add_library(ap_options INTERFACE)
target_compile_features(ap_options INTERFACE cxx_std_17)
target_include_directories(ap_options INTERFACE ${PROJECT_SOURCE_DIR})
target_compile_definitions(ap_options INTERFACE
  AP_VERSION="${PROJECT_VERSION}"
  AP_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  QT_NO_CAST_FROM_ASCII
  QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
  QT_DISABLE_DEPRECATED_UP_TO=0x060000)
if(AP_SANITIZERS)
  string(REPLACE ";" "," _ap_san "${AP_SANITIZERS}")
  target_compile_options(ap_options INTERFACE -fsanitize=${_ap_san} -fno-omit-frame-pointer)
  target_link_options(ap_options INTERFACE -fsanitize=${_ap_san})
endif()

add_library(ap_warnings INTERFACE)
target_compile_options(ap_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wsuggest-override -Wimplicit-fallthrough -Wmisleading-indentation)
if(AP_WARNINGS_AS_ERRORS)
  target_compile_options(ap_warnings INTERFACE -Werror)
endif()

# Targets that see both Qt and LibTorch (core tests) need QT_NO_KEYWORDS: LibTorch uses `slots`.
function(ap_mixes_qt_and_torch target)
  target_compile_definitions(${target} PRIVATE QT_NO_KEYWORDS)
endfunction()
