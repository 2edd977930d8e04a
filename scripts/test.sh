#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs every test (real libzmq, real
# mosquitto started by the tests on free loopback ports). Long stress loops are not run here:
# see `make stress` / scripts/stress.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build
make sanitize-thread SANITIZE_ITERATIONS=20  # time-boxed TSan run of the shutdown suite in .build-tsan (~10 min on 2 cores); ASan: make sanitize
