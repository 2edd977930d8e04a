#!/usr/bin/env bash
# Release check: every shutdown-correctness scenario for N iterations (default 10,000), one process
# per scenario, so a hang's abandoned threads cannot disturb the next scenario and each process can
# check that no bus thread outlived its buses. Exits non-zero at the first failure, which prints the
# scenario, the seed that replays its random choices, and the phase that blocked.
#
# The bridge scenarios (bridge-*) run BRIDGE_ITERATIONS (default 1,000) each: every iteration
# connects MQTT sessions to the shared private mosquitto, and bridge-broker-lost starts and kills a
# mosquitto of its own, so 10,000 of them would take hours.
#
#   bash scripts/stress.sh [ITERATIONS]        (or: make stress)
#   SEED=123 CONFIGURATION=debug SCRATCH_PATH=.build-suite bash scripts/stress.sh 200
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-10000}"
bridge_iterations="${BRIDGE_ITERATIONS:-1000}"
configuration="${CONFIGURATION:-release}"
scratch="${SCRATCH_PATH:-.build}"
seed="${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"

swift build -c "$configuration" --scratch-path "$scratch" --product vbus-bench
vbus="$(swift build -c "$configuration" --scratch-path "$scratch" --show-bin-path)/vbus-bench"
echo "stress: $iterations iterations per bus scenario, $bridge_iterations per bridge scenario, seed $seed, $configuration build"
start=$(date +%s)
for scenario in $("$vbus" stress shutdown --list | cut -d: -f1); do
    count="$iterations"
    case "$scenario" in bridge-*) count="$bridge_iterations" ;; esac
    "$vbus" stress shutdown --scenario "$scenario" --iterations "$count" --seed "$seed"
done
echo "stress: every scenario passed ($iterations per bus scenario, $bridge_iterations per bridge scenario) in $(( $(date +%s) - start )) s"

# The bridge across broker restarts, in a loop under load: CLIBridgeRestartTests (vbus bridge, a
# pyzmq publisher, a paho-mqtt subscriber counting losses and duplicates; 3.1.1 and 5.0, QoS 1 and
# 2) with RESTART_ROUNDS restarts per case, RESTART_RUNS times, while a CPU load runs beside it.
restart_runs="${RESTART_RUNS:-10}"
restart_rounds="${RESTART_ROUNDS:-10}"
swift build --build-tests
load_pids=()
for _ in 1 2; do ( while :; do :; done ) & load_pids+=($!); done
trap 'kill "${load_pids[@]}" 2>/dev/null || true' EXIT
for run in $(seq 1 "$restart_runs"); do
    echo "stress: bridge restarts, run $run of $restart_runs ($restart_rounds restarts per case, 2 busy-loop CPU hogs beside it)"
    VBUS_RESTART_ROUNDS="$restart_rounds" swift test --skip-build --filter CLIBridgeRestartTests
done
echo "stress: bridge restarts passed $restart_runs runs of $restart_rounds restarts per case"

# The bridge's move between the nodes of a RabbitMQ cluster, in a loop under the same load:
# BrokerInteropTests' cluster test (a fresh two-node cluster per case, node 1 stopped (SIGTERM) in one
# case and crashed (SIGKILL) in the other, mid-stream, paho and pyzmq counting both ways) CLUSTER_RUNS
# times with CLUSTER_MESSAGES messages each way. About 90 s a run on 2 cores.
cluster_runs="${CLUSTER_RUNS:-10}"
cluster_messages="${CLUSTER_MESSAGES:-2000}"
for run in $(seq 1 "$cluster_runs"); do
    echo "stress: cluster fail-over, run $run of $cluster_runs ($cluster_messages messages each way, 2 busy-loop CPU hogs beside it)"
    VBUS_CLUSTER_MESSAGES="$cluster_messages" swift test --skip-build --filter "BrokerInteropTests/clusterFailover"
done
echo "stress: cluster fail-over passed $cluster_runs runs"
