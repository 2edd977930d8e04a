#!/usr/bin/env bash
# One RabbitMQ node with the MQTT plugin, in the foreground (exec: the caller's pid is the node,
# so killing it stops the broker), everything under DATA_DIR, every socket on 127.0.0.1.
#
#   rabbitmq.sh DATA_DIR NODE_NAME MQTT_PORT AMQP_PORT DIST_PORT EPMD_PORT [SEED_NODE]
#
# With SEED_NODE (e.g. n1@localhost) a fresh node joins that node's cluster while it boots
# (classic_config peer discovery), so a cluster needs no `rabbitmqctl join_cluster`, which costs
# an Erlang VM start per call. It keeps asking for the seed for up to a minute, so both nodes may
# start at once.
#
# The epmd on EPMD_PORT must already run (the caller starts `epmd -address 127.0.0.1 -port P` in
# the foreground and owns it): a node that starts epmd itself daemonizes it, and that daemon
# outlives the test. Nodes of one cluster share DATA_DIR's parent as HOME, hence one Erlang
# cookie, and one EPMD_PORT.
set -euo pipefail
data="$1" node="$2" mqtt_port="$3" amqp_port="$4" dist_port="$5" epmd_port="$6" seed="${7:-}"
mkdir -p "$data"
cat > "$data/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$amqp_port
mqtt.listeners.tcp.default = 127.0.0.1:$mqtt_port
mqtt.allow_anonymous = true
mqtt.default_user = guest
mqtt.default_pass = guest
loopback_users = none
log.file.level = warning
log.console = false
CONF
if [ -n "$seed" ]; then
    cat >> "$data/rabbitmq.conf" <<CONF
cluster_formation.peer_discovery_backend = classic_config
cluster_formation.classic_config.nodes.1 = $seed
cluster_formation.discovery_retry_limit = 120
cluster_formation.discovery_retry_interval = 500
CONF
fi
echo '[rabbitmq_mqtt].' > "$data/enabled_plugins"
home="$(dirname "$data")"
# A cookie of our own, readable only by us (Erlang refuses a cookie file others can read).
[ -f "$home/.erlang.cookie" ] || { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$home/.erlang.cookie"; chmod 400 "$home/.erlang.cookie"; }
export HOME="$home"
export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$epmd_port"
export RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$amqp_port" RABBITMQ_DIST_PORT="$dist_port"
export RABBITMQ_MNESIA_BASE="$data/mnesia" RABBITMQ_LOG_BASE="$data/log" RABBITMQ_PLUGINS_EXPAND_DIR="$data/plugins-expand"
export RABBITMQ_ENABLED_PLUGINS_FILE="$data/enabled_plugins" RABBITMQ_CONFIG_FILE="$data/rabbitmq.conf" RABBITMQ_PID_FILE="$data/pid"
# The distribution port on loopback only (it would bind every interface otherwise).
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
# RUNNING_UNDER_SYSTEMD: the start script then execs erl instead of waiting on it in a shell.
export RUNNING_UNDER_SYSTEMD=true
# Output to a file in DATA_DIR, not to the caller: a pipe nobody drains would block the broker.
exec >"$data/broker.log" 2>&1
exec /usr/lib/rabbitmq/bin/rabbitmq-server
