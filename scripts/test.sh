#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs every test (real libzmq, real
# mosquitto started by the tests on free loopback ports). Long stress loops are not run here:
# see `make stress` / scripts/stress.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build
# Time-boxed sanitizer runs of the shutdown suite (bus and bridge scenarios, self-tests), each in its
# own scratch path. 2 cores: TSan build ~9 min + run ~2 min; ASan build ~8 min + run ~2.5 min.
make sanitize-thread SANITIZE_ITERATIONS=20
make sanitize-address SANITIZE_ITERATIONS=20
