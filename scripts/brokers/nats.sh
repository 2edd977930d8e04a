#!/usr/bin/env bash
# nats-server with its MQTT listener, in the foreground (exec: the caller's pid is the server),
# state under DATA_DIR, every socket on 127.0.0.1. MQTT in NATS needs JetStream (sessions,
# retained messages and QoS 1 are JetStream streams) and a server name.
#
#   nats.sh DATA_DIR MQTT_PORT CLIENT_PORT
set -euo pipefail
data="$1" mqtt_port="$2" client_port="$3"
mkdir -p "$data/jetstream"
cat > "$data/nats.conf" <<CONF
server_name: vbus-interop-$client_port
listen: 127.0.0.1:$client_port
http: 0
jetstream { store_dir: "$data/jetstream" }
mqtt { listen: 127.0.0.1:$mqtt_port }
CONF
# Output to a file in DATA_DIR, not to the caller: a pipe nobody drains would block the broker.
exec >"$data/broker.log" 2>&1
exec nats-server -c "$data/nats.conf"
