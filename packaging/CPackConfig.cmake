# SPDX-License-Identifier: GPL-3.0-or-later
# CPack metadata: a Debian package of apportion + apportion-gui (GPL-3.0-or-later) with the icon,
# menu entry and AppStream metadata from resources/. Library dependencies come from
# dpkg-shlibdeps, so the same config gives libtorch1.13/Qt 6.4 on Debian 12 and libtorch2.6/Qt 6.8
# on Debian 13. Build it with `cd build && cpack -G DEB` (tests/packaging checks its contents).
set(CPACK_PACKAGE_NAME "apportion")
set(CPACK_PACKAGE_VENDOR "Apportion developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Workbench for LoRA mixture-of-experts fine-tuning research")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Apportion developers <apportion@example.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PROJECT_HOMEPAGE_URL}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)  # the RelWithDebInfo binaries carry ~90 MB of debug info
# Not a link dependency: Debian's LibTorch picks its BLAS through alternatives, and without the
# pthread OpenBLAS its GEMMs run about ten times slower.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-pthread")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Configure, run and compare LoRA mixture-of-experts fine-tuning experiments (MoLA, GuiLoMo,
 DR-LoRA) on Hugging Face checkpoints, with live per-layer views. License: GPL-3.0-or-later.")
include(CPack)
