"""A foreign bus subscriber (pyzmq) that counts what a bridge delivered from MQTT to the bus.

Usage: pyzmq_counting_subscriber.py BACKEND PREFIX TOTAL

Subscribes to PREFIX/ on the bus's backend (the proxy's XPUB side), prints `ready`, then `synced`
at the first PREFIX/sync message. Counts the messages PREFIX/<n> whose payload is n,
0 <= n < TOTAL (QoS 1 may bring one twice: duplicates are counted, not failed), prints
`received N` every 100 distinct, and once all TOTAL came, or after 60 s without a message,
prints `summary distinct=D duplicates=U missing=M first_missing=[...]` and exits (0 when none is
missing).
"""
import sys

import zmq

backend, prefix, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
context = zmq.Context()
socket = context.socket(zmq.SUB)
socket.setsockopt(zmq.SUBSCRIBE, (prefix + "/").encode())
socket.setsockopt(zmq.RCVTIMEO, 60000)
socket.setsockopt(zmq.RCVHWM, 0)
socket.connect(backend)
print("ready", flush=True)
counts = [0] * total
distinct = 0
synced = False
while distinct < total:
    try:
        topic, payload = socket.recv_multipart()
    except zmq.Again:
        break
    name = topic.decode()[len(prefix) + 1:]
    if name == "sync":
        if not synced:
            print("synced", flush=True)
            synced = True
        continue
    n = int(name)
    if 0 <= n < total and payload == str(n).encode():
        if counts[n] == 0:
            distinct += 1
            if distinct % 100 == 0:
                print(f"received {distinct}", flush=True)
        counts[n] += 1
missing = [n for n in range(total) if counts[n] == 0]
duplicates = sum(c - 1 for c in counts if c > 1)
print(f"summary distinct={distinct} duplicates={duplicates} missing={len(missing)} first_missing={missing[:10]}", flush=True)
socket.close(linger=0)
context.term()
sys.exit(1 if missing else 0)
