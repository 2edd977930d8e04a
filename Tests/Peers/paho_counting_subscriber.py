"""An independent MQTT subscriber (paho-mqtt) that counts what a bridge delivered.

Usage: paho_counting_subscriber.py PORT VERSION(3.1.1|5) QOS CLIENT_ID PREFIX TOTAL

Subscribes to PREFIX/# with a persistent session (it survives broker restarts) and counts the
messages PREFIX/<n> whose payload is n, 0 <= n < TOTAL. Prints `subscribed` once the broker granted
the subscription, `received N` each time N distinct messages have come (every 50), says each lost
connection and reconnect out loud, and on PREFIX/end prints
`summary distinct=D duplicates=U missing=M first_missing=[...]` and exits 0.
"""
import sys
import threading

import paho.mqtt.client as mqtt

port, version, qos, client_id, prefix, total = sys.argv[1:7]
port, qos, total = int(port), int(qos), int(total)
v5 = version == "5"

counts = [0] * total
distinct = 0
done = threading.Event()


def on_connect(client, userdata, flags, reason_code, properties):
    print(f"connected session_present={int(flags.session_present)}", flush=True)
    # Subscribing again on a resumed session is harmless, and needed on a new one.
    client.subscribe(prefix + "/#", qos=qos)


def on_subscribe(client, userdata, mid, reason_codes, properties):
    print("subscribed", flush=True)


def on_disconnect(client, userdata, flags, reason_code, properties):
    if not done.is_set():
        print(f"connection lost ({reason_code}); reconnecting", flush=True)


def on_message(client, userdata, message):
    global distinct
    name = message.topic[len(prefix) + 1:]
    if name == "end":
        duplicates = sum(max(c - 1, 0) for c in counts)
        missing = [i for i, c in enumerate(counts) if c == 0]
        print(f"summary distinct={distinct} duplicates={duplicates} missing={len(missing)} "
              f"first_missing={missing[:10]}", flush=True)
        done.set()
        return
    index = int(message.payload)
    if counts[index] == 0:
        distinct += 1
        if distinct % 50 == 0:
            print(f"received {distinct}", flush=True)
    counts[index] += 1


client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                     protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
                     **({} if v5 else {"clean_session": False}))
client.on_connect, client.on_subscribe = on_connect, on_subscribe
client.on_disconnect, client.on_message = on_disconnect, on_message
client.reconnect_delay_set(min_delay=0.1, max_delay=1)
if v5:
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    # Clean Start 0 from the first connection (the client id is new, so the session is too):
    # mosquitto 2.0 does not save a session that began with Clean Start 1 across its restart.
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
else:
    client.connect("127.0.0.1", port)
client.loop_start()
finished = done.wait(timeout=170)
client.disconnect()
client.loop_stop()
if not finished:
    print(f"timed out with distinct={distinct} of {total}", flush=True)
    sys.exit(1)
