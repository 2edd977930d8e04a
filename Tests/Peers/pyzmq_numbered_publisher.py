"""A foreign bus publisher (pyzmq) that sends numbered messages once they can be delivered.

Usage: pyzmq_numbered_publisher.py FRONTEND PREFIX FIRST END [--end]

Connects an XPUB socket to the bus's frontend (the proxy's XSUB side) and waits until the bus
forwards a subscription that covers PREFIX/ (an XPUB hears subscriptions; a PUB would drop what it
sends before it knows), then sends [PREFIX/<n>, n] for FIRST <= n < END (and [PREFIX/end, ''] with
--end), flushes and prints `sent N`.
A send queue without limit: nothing is dropped on this side if the bus is slower for a while.
"""
import sys
import time

import zmq

frontend, prefix, first, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
context = zmq.Context()
socket = context.socket(zmq.XPUB)
socket.setsockopt(zmq.SNDHWM, 0)
socket.setsockopt(zmq.RCVTIMEO, 20000)
socket.setsockopt(zmq.LINGER, 30000)
socket.connect(frontend)
wanted = (prefix + "/").encode()
deadline = time.monotonic() + 20
while True:
    try:
        frame = socket.recv()
    except zmq.Again:
        sys.exit(f"no subscription for {prefix}/ reached this publisher within 20 s")
    if frame[:1] == b"\x01" and wanted.startswith(frame[1:]):
        break
    if time.monotonic() > deadline:
        sys.exit(f"no subscription for {prefix}/ reached this publisher within 20 s")
for n in range(first, end):
    socket.send_multipart([f"{prefix}/{n}".encode(), str(n).encode()])
if sys.argv[5:] == ["--end"]:
    socket.send_multipart([f"{prefix}/end".encode(), b""])
socket.close()
context.term()
print(f"sent {end - first}", flush=True)
