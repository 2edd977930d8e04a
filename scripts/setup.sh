#!/usr/bin/env bash
# Installs what the project needs on a Debian machine that already has the Swift toolchain:
# libzmq (C library + headers), pkg-config, mosquitto (broker, clients, C library for the
# benchmark anchor), and the Python peers used by the interop tests and benchmarks.
# Safe to run again: it only installs what is missing.
set -euo pipefail

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libzmq 2>/dev/null || missing+=(libzmq3-dev)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)
[ -f /usr/include/mosquitto.h ] || missing+=(libmosquitto-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The brokers of the interoperability suite (BrokerInteropTests) besides mosquitto.
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo_if_needed apt-get update -qq
    # No service starts at install (a system RabbitMQ would hold the default ports on every
    # interface): the tests start their own brokers. A policy-rc.d that already exists is kept.
    policy=/usr/sbin/policy-rc.d
    added_policy=false
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | sudo_if_needed tee "$policy" >/dev/null
        sudo_if_needed chmod +x "$policy"
        added_policy=true
    fi
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    if $added_policy; then sudo_if_needed rm -f "$policy"; fi
fi

pip_install() {
    python3 -m pip install -q "$@" 2>/dev/null || python3 -m pip install -q --break-system-packages "$@"
}
python3 -c 'import zmq' 2>/dev/null || { echo "setup: installing pyzmq" >&2; pip_install pyzmq; }
python3 -c 'import paho.mqtt.client' 2>/dev/null || { echo "setup: installing paho-mqtt" >&2; pip_install paho-mqtt; }
# amqtt pinned: docs/MQTT.md's broker table names the version, and CI fails when the table changes.
python3 -c 'import amqtt' 2>/dev/null || { echo "setup: installing amqtt" >&2; pip_install 'amqtt==0.12.1'; }
