# SPDX-License-Identifier: GPL-3.0-or-later
# The AP_FUZZ build (included by the top-level CMakeLists.txt, which stops after it): ap_core
# and the libFuzzer targets of tests/fuzz only, every source instrumented with clang's
# -fsanitize=fuzzer-no-link,address,undefined. Needs neither LibTorch nor Qt.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "AP_FUZZ needs clang (libFuzzer): "
                      "CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DAP_FUZZ=ON")
endif()
set(AP_FUZZ_SANITIZE "-fsanitize=address,undefined")
add_compile_options(-fsanitize=fuzzer-no-link ${AP_FUZZ_SANITIZE} -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer)
add_link_options(${AP_FUZZ_SANITIZE})
enable_testing()
add_subdirectory(core)
# core/CMakeLists.txt also declares the torch library; without LibTorch it must not be built.
set_target_properties(ap_train PROPERTIES EXCLUDE_FROM_ALL ON)
add_subdirectory(tests/fuzz)
