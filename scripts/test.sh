#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs every test (real libzmq, real
# mosquitto started by the tests on free loopback ports). Long stress loops are not run here:
# see `make stress` / scripts/stress.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The formatter's layout (make format fixes it); seconds, so before the long build.
make lint
swift build --build-tests
# Three runs, not one: the shutdown-correctness suite (200 randomized iterations per scenario,
# every shutdown held to its deadline) and the decoder fuzz (3,000,000 inputs, one core for about
# half a minute) each run on their own. In one run, the fuzz's CPU-bound loop and the other
# tests' blocking set-up (starting brokers and processes) share two cores with the deadlines
# being measured, and a late shutdown would measure the test run rather than the bus.
swift test --skip-build --skip "ShutdownSuiteTests|DecoderFuzzTests|BrokerInteropTests"
swift test --skip-build --filter ShutdownSuiteTests
# Brokers we did not write (RabbitMQ, NATS, amqtt, a two-node RabbitMQ cluster), on their own: their
# start-up is CPU-heavy (Erlang), and the matrix's table is checked against docs/MQTT.md. ~2 min.
swift test --skip-build --filter BrokerInteropTests
swift test --skip-build --filter DecoderFuzzTests
# Time-boxed sanitizer runs of the shutdown suite (bus and bridge scenarios, self-tests), each in its
# own scratch path. 2 cores: TSan build ~9 min + run ~2 min; ASan build ~8 min + run ~2.5 min.
make sanitize-thread SANITIZE_ITERATIONS=20
make sanitize-address SANITIZE_ITERATIONS=20
