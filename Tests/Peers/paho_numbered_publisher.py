"""An independent MQTT publisher (paho-mqtt, MQTT 3.1.1, QoS 1) for the MQTT -> bus direction.

Usage: paho_numbered_publisher.py PORT PREFIX FIRST END [--pace SECONDS]
       paho_numbered_publisher.py PORT PREFIX --sync

Publishes PREFIX/<n> with payload n for FIRST <= n < END at QoS 1 (one every SECONDS with --pace,
so that a broker can be stopped mid-stream), waits until the broker acknowledged every one
(PUBACK), prints `sent N` and exits 0. With --sync it publishes PREFIX/sync at QoS 0 every 20 ms
until it is stopped: the bus subscriber says when the first one came, which proves its
subscription reached the bus before the numbered messages start.
"""
import sys
import time

import paho.mqtt.client as mqtt

port, prefix = int(sys.argv[1]), sys.argv[2]
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", clean_session=True, protocol=mqtt.MQTTv311)
client.max_inflight_messages_set(100)
client.max_queued_messages_set(0)
client.connect("127.0.0.1", port, keepalive=30)
client.loop_start()
if sys.argv[3:] == ["--sync"]:
    while True:
        client.publish(f"{prefix}/sync", b"", qos=0)
        time.sleep(0.02)
first, end = int(sys.argv[3]), int(sys.argv[4])
pace = float(sys.argv[6]) if sys.argv[5:6] == ["--pace"] else 0.0
infos = []
for n in range(first, end):
    infos.append(client.publish(f"{prefix}/{n}", str(n).encode(), qos=1))
    if pace:
        time.sleep(pace)
deadline = time.monotonic() + 60
for info in infos:
    info.wait_for_publish(max(0.1, deadline - time.monotonic()))
unacknowledged = sum(1 for info in infos if not info.is_published())
client.disconnect()
client.loop_stop()
if unacknowledged:
    sys.exit(f"{unacknowledged} publish(es) not acknowledged within 60 s")
print(f"sent {end - first}", flush=True)
