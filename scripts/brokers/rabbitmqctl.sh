#!/usr/bin/env bash
# rabbitmqctl against a node started by rabbitmq.sh: same HOME (cookie) and epmd.
#   rabbitmqctl.sh DATA_DIR NODE_NAME EPMD_PORT ARGS...
set -euo pipefail
data="$1" node="$2" epmd_port="$3"; shift 3
export HOME="$(dirname "$data")" ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$epmd_port"
exec /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" "$@"
