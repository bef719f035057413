# SPDX-License-Identifier: GPL-3.0-or-later
# Fails (FATAL_ERROR) when a file under core/ includes a Qt or QCustomPlot header, or a file under
# ui/ or app/gui/ includes a LibTorch header (torch/, ATen/, c10/) or a torch folder's header, a
# torch-free core folder includes LibTorch, or code outside the methods' folders compares a method
# name. Usage: cmake -DSOURCE_DIR=… -P
set(violations "")
file(GLOB_RECURSE core_files "${SOURCE_DIR}/core/*.h" "${SOURCE_DIR}/core/*.cpp")
foreach(f IN LISTS core_files)
  file(STRINGS "${f}" hits REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](Q[A-Za-z]|qcustomplot)")
  if(hits)
    list(APPEND violations "${f}: ${hits}")
  endif()
endforeach()
file(GLOB_RECURSE gui_files "${SOURCE_DIR}/ui/*.h" "${SOURCE_DIR}/ui/*.cpp"
     "${SOURCE_DIR}/app/gui/*.h" "${SOURCE_DIR}/app/gui/*.cpp")
foreach(f IN LISTS gui_files)
  file(STRINGS "${f}" hits REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](torch/|ATen/|c10/)")
  if(hits)
    list(APPEND violations "${f}: ${hits}")
  endif()
endforeach()
# Folders follow targets: the torch-free library's folders (ap_core, core/CMakeLists.txt) hold no
# torch code, and the GUI reaches only into them.
set(torch_free_dirs common config datasets series scoring events store allocation tokenizer estimate backbone
    methods)
foreach(dir IN LISTS torch_free_dirs)
  file(GLOB_RECURSE free_files "${SOURCE_DIR}/core/${dir}/*.h" "${SOURCE_DIR}/core/${dir}/*.cpp")
  foreach(f IN LISTS free_files)
    file(STRINGS "${f}" hits REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](torch/|ATen/|c10/)")
    if(hits)
      list(APPEND violations "${f}: torch in a torch-free folder: ${hits}")
    endif()
  endforeach()
endforeach()
foreach(f IN LISTS gui_files)
  file(STRINGS "${f}" hits REGEX
       "^[ \t]*#[ \t]*include[ \t]*\"core/(model|train|adapters|data|tensor|guilomo|drlora|alphalora|increlora)/")
  if(hits)
    list(APPEND violations "${f}: the GUI reaches into a torch folder: ${hits}")
  endif()
endforeach()
# One method, one place: outside the methods' own folders (core/methods/<method>/ and their torch
# rows core/<method>/) and the registries, nothing compares an allocation method's name or run
# label. (adapters.method's "lora"/"moe_lora" are adapter families, not methods.)
set(method_names "uniform|mola|guilomo|guilomo_search|drlora|static_frequency|alphalora|increlora")
file(GLOB_RECURSE all_sources "${SOURCE_DIR}/core/*.cpp" "${SOURCE_DIR}/core/*.h"
     "${SOURCE_DIR}/ui/*.cpp" "${SOURCE_DIR}/ui/*.h" "${SOURCE_DIR}/app/*.cpp" "${SOURCE_DIR}/app/*.h")
foreach(f IN LISTS all_sources)
  file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
  if(rel MATCHES "^core/methods/|^core/(guilomo|drlora|alphalora|increlora)/|^core/train/method_runtimes.cpp$")
    continue()
  endif()
  file(STRINGS "${f}" hits REGEX
       "(==|!=)[ \t]*(QLatin1String\\()?\"(${method_names})\"|\"(${method_names})\"\\)?[ \t]*(==|!=)")
  if(hits)
    list(APPEND violations "${f}: compares a method name (ask core/methods/method_registry.h): ${hits}")
  endif()
endforeach()
list(LENGTH core_files n_core)
list(LENGTH gui_files n_gui)
if(violations)
  string(REPLACE ";" "\n  " msg "${violations}")
  message(FATAL_ERROR "Layering violated (core must not include Qt; ui/app/gui must not include "
                      "LibTorch or torch folders; torch-free folders hold no torch; methods are "
                      "asked, not named):\n  ${msg}")
endif()
if(n_core EQUAL 0)
  message(FATAL_ERROR "No files found under ${SOURCE_DIR}/core: wrong SOURCE_DIR?")
endif()
message(STATUS "layering ok: ${n_core} core files, ${n_gui} GUI files checked")
