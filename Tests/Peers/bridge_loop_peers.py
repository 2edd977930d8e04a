#!/usr/bin/env python3
"""Foreign peers on both ends of a `vbus bridge --both 'chat/#'`, counting what each end sees,
to show that the bridge relays every message once and never sends one of its own back (no loop),
although nothing in the messages marks where they came from.

Usage: bridge_loop_peers.py FRONTEND BACKEND MQTT_PORT MQTT_VERSION(3.1.1|5)

Bus side: a pyzmq PUB connected to the bridge's frontend and a pyzmq SUB (prefix `chat/`) on its
backend. MQTT side: a paho subscriber on `chat/#` (QoS 1) and a separate paho publisher.

1. Join: probes go both ways, from the very sockets and clients used later, until each end has
   seen a probe from the other end and one from its own end. A PUB drops what it sends before its
   connection and the subscriptions behind it are in place, and the bridge relays only once it is
   connected and subscribed on both sides: nothing says when that is, except a probe getting through.
2. The bus publishes chat/a=A; MQTT publishes chat/b=B. Once the bus SUB has seen the B bridged
   in, the bus PUB publishes an identical chat/b=B: a foreign message that only looks like one
   the bridge injected, which must still go out to MQTT.
3. End markers (see `main` for why their order shows every echo that could come).

Prints `mqtt A=.. B=.. bus A=.. B=..` (messages A and B as each end saw them; probes and markers
are not counted) and `seen relayed-out>=.. relayed-in>=..` (lower bounds of the bridge's own
counters, for the test to know a statistics line comes after all of this). Exits non-zero with a
message when a bounded wait runs out.
"""

import os
import sys
import threading
import time
from collections import Counter

import paho.mqtt.client as mqtt
import zmq

JOIN_LIMIT = 20.0  # seconds for the probes to get through both ways
STEP_LIMIT = 20.0  # seconds for each later step
PROBE_INTERVAL = 0.05  # how often probes are repeated while joining (pacing, not synchronisation)


class Seen:
    """What each end has received, by topic, behind one condition every waiter waits on."""

    def __init__(self):
        self.condition = threading.Condition()
        self.mqtt = Counter()
        self.bus = Counter()

    def add(self, side, topic):
        with self.condition:
            getattr(self, side)[topic] += 1
            self.condition.notify_all()

    def summary(self):
        return "mqtt A=%d B=%d bus A=%d B=%d" % (
            self.mqtt["chat/a"], self.mqtt["chat/b"], self.bus["chat/a"], self.bus["chat/b"])

    def wait(self, what, predicate, limit, tick=None):
        """Waits until `predicate()` holds (checked under the lock at every message), calling
        `tick` every PROBE_INTERVAL meanwhile when given; fails the whole run after `limit`."""
        deadline = time.monotonic() + limit
        next_tick = time.monotonic()
        with self.condition:
            while not predicate():
                now = time.monotonic()
                if now >= deadline:
                    fail("timed out after %.0f s waiting for %s; seen: mqtt %s, bus %s"
                         % (limit, what, dict(self.mqtt), dict(self.bus)))
                if tick is None:
                    self.condition.wait(deadline - now)
                    continue
                if now >= next_tick:
                    # By the clock, not per wake-up: every probe that arrives wakes this loop, and
                    # sending more at each would multiply them. Sent with the lock released, so
                    # the receiving threads can record what arrives meanwhile.
                    next_tick = now + PROBE_INTERVAL
                    self.condition.release()
                    try:
                        tick()
                    finally:
                        self.condition.acquire()
                self.condition.wait(max(0.0, min(deadline, next_tick) - time.monotonic()))


def fail(message):
    print("bridge_loop_peers: " + message, file=sys.stderr, flush=True)
    os._exit(1)  # the paho and zmq threads must not keep a failed run alive


def main():
    frontend, backend, port, version = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    protocol = {"3.1.1": mqtt.MQTTv311, "5": mqtt.MQTTv5}[version]
    seen = Seen()
    context = zmq.Context()

    # Bus SUB, read on a thread of its own (a zmq socket is used by one thread only).
    stopping = threading.Event()
    sub_ready = threading.Event()

    def read_bus():
        sub = context.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"chat/")
        sub.connect(backend)
        sub_ready.set()
        poller = zmq.Poller()
        poller.register(sub, zmq.POLLIN)
        while not stopping.is_set():
            # The timeout only lets the thread notice the end of the run.
            if poller.poll(100):
                frames = sub.recv_multipart()
                if len(frames) != 2:
                    fail("bus SUB got %d frames, expected exactly 2: %r" % (len(frames), frames))
                seen.add("bus", frames[0].decode())
        sub.close()

    reader = threading.Thread(target=read_bus, daemon=True)
    reader.start()
    sub_ready.wait()

    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(frontend)

    def bus_publish(topic, payload):
        pub.send_multipart([topic.encode(), payload.encode()])

    # MQTT subscriber and publisher: two clients with their own ids, so that No Local (MQTT 5),
    # which applies per client, cannot hide anything from the subscriber.
    pid = os.getpid()
    connected = threading.Event()
    subscribed = threading.Event()

    def on_sub_connect(client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            fail("MQTT subscriber refused: %s" % reason_code)
        client.subscribe("chat/#", qos=1)

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        if any(code.is_failure for code in reason_codes):
            fail("MQTT subscription refused: %s" % reason_codes)
        subscribed.set()

    def on_message(client, userdata, message):
        seen.add("mqtt", message.topic)

    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="loop-sub-%d" % pid, protocol=protocol)
    subscriber.on_connect = on_sub_connect
    subscriber.on_subscribe = on_subscribe
    subscriber.on_message = on_message
    subscriber.connect("127.0.0.1", port)
    subscriber.loop_start()

    def on_pub_connect(client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            fail("MQTT publisher refused: %s" % reason_code)
        connected.set()

    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="loop-pub-%d" % pid, protocol=protocol)
    publisher.on_connect = on_pub_connect
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()

    if not subscribed.wait(STEP_LIMIT) or not connected.wait(STEP_LIMIT):
        fail("the MQTT clients did not connect and subscribe within %.0f s" % STEP_LIMIT)

    def mqtt_publish(topic, payload):
        info = publisher.publish(topic, payload, qos=1)
        # Waits for the PUBACK: the broker has the message before the next step.
        info.wait_for_publish(STEP_LIMIT)
        if not info.is_published():
            fail("MQTT publish of %s not acknowledged within %.0f s" % (topic, STEP_LIMIT))

    # 1. Join. Each end must see the other end's probe (the bridge carries both ways) and its own
    # end's (bus: the SUB's subscription reached the bus; MQTT: trivially, the broker).
    def send_probes():
        bus_publish("chat/probe-bus", "probe")
        publisher.publish("chat/probe-mqtt", "probe", qos=1)

    seen.wait("a probe from each end at each end",
              lambda: all(seen.mqtt[t] and seen.bus[t] for t in ("chat/probe-bus", "chat/probe-mqtt")),
              JOIN_LIMIT, tick=send_probes)
    # No more probes from here on; late ones are not counted.

    # 2. A from the bus, B from MQTT; both reach both ends once.
    bus_publish("chat/a", "A")
    mqtt_publish("chat/b", "B")
    # The foreign copy of B only once the bridged-in B is on the bus: the bridge's own outbound
    # subscription got that one first (the bus hands a message to every subscriber at once), so
    # the two are apart in time as well, and only the copy may go out.
    seen.wait("A and B at both ends",
              lambda: all(seen.mqtt[t] and seen.bus[t] for t in ("chat/a", "chat/b")), STEP_LIMIT)
    bus_publish("chat/b", "B")

    # 3. End markers, in an order that makes every possible echo of A or B arrive before the
    # marker that ends the wait at the end it would reach:
    # - chat/end-bus follows the foreign B on the same PUB, so the bridge's outbound subscription
    #   has it after the bridged-in B and the foreign B: had either gone out twice (an echo sent
    #   back to MQTT), the MQTT subscriber would see that before chat/end-bus.
    # - chat/end-mqtt is published only once chat/end-bus reached MQTT: the broker has already
    #   queued for the bridge whatever of the bridge's publishes it sends back (MQTT 3.1.1 has no
    #   No Local), A and the foreign B included, and delivers them to the bridge in order before
    #   chat/end-mqtt; had the bridge relayed one of them in, the bus SUB sees it before chat/end-mqtt.
    bus_publish("chat/end-bus", "end")
    seen.wait("chat/end-bus at both ends", lambda: seen.mqtt["chat/end-bus"] and seen.bus["chat/end-bus"], STEP_LIMIT)
    mqtt_publish("chat/end-mqtt", "end")
    seen.wait("chat/end-mqtt at both ends", lambda: seen.mqtt["chat/end-mqtt"] and seen.bus["chat/end-mqtt"], STEP_LIMIT)

    with seen.condition:
        print(seen.summary(), flush=True)
        # What the bridge certainly relayed: messages only it can have brought to that end (B is
        # left out: at each end one B is not the bridge's).
        relayed_out = sum(seen.mqtt[t] for t in ("chat/probe-bus", "chat/a", "chat/end-bus"))
        relayed_in = sum(seen.bus[t] for t in ("chat/probe-mqtt", "chat/end-mqtt"))
        print("seen relayed-out>=%d relayed-in>=%d" % (relayed_out, relayed_in), flush=True)

    stopping.set()
    reader.join()
    pub.close()
    context.term()
    for client in (subscriber, publisher):
        client.disconnect()
        client.loop_stop()


if __name__ == "__main__":
    main()
