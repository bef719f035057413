# SPDX-License-Identifier: GPL-3.0-or-later
# CPack metadata: a Debian package of apportion + apportion-gui (GPL-3.0-or-later).
set(CPACK_PACKAGE_NAME "apportion")
set(CPACK_PACKAGE_VENDOR "Apportion developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Workbench for LoRA mixture-of-experts fine-tuning research")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Apportion developers")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libtorch1.13, libopenblas0-pthread, libsqlite3-0")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "License: GPL-3.0-or-later")
include(CPack)
