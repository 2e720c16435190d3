#!/usr/bin/env bash
# Builds mnemo's Debian packages with CPack (cmake/Packaging.cmake) from build/, the
# tested build, configured for /usr, and prints the path of each .deb on its own line:
# mnemo (server, CLI, mnemo.service), libmnemo<X.Y> (libmnemo.so) and libmnemo-dev.
# Usage: scripts/package.sh    (then: sudo dpkg -i <paths>; see README, "Install")
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
scripts/build.sh >&2
cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
ninja -C build -j "${MNEMO_JOBS:-2}" >&2
rm -rf build/packages
(cd build && cpack -B "$PWD/packages" >&2)
find "$PWD/build/packages" -maxdepth 1 -name '*.deb' | sort
