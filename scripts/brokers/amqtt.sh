#!/usr/bin/env bash
# The amqtt broker (Python, MQTT 3.1.1), in the foreground (exec: the caller's pid is the
# broker), anonymous, on 127.0.0.1 only.
#
#   amqtt.sh DATA_DIR MQTT_PORT
set -euo pipefail
data="$1" mqtt_port="$2"
mkdir -p "$data"
cat > "$data/amqtt.yaml" <<CONF
---
listeners:
  default:
    type: tcp
    bind: 127.0.0.1:$mqtt_port
plugins:
  amqtt.plugins.authentication.AnonymousAuthPlugin:
    allow_anonymous: true
CONF
# Output to a file in DATA_DIR, not to the caller: a pipe nobody drains would block the broker.
exec >"$data/broker.log" 2>&1
exec python3 -m amqtt.scripts.broker_script -c "$data/amqtt.yaml"
