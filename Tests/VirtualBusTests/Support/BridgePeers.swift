import TestSupport
import VirtualBus

/// The foreign peers of the `vbus bridge` and `vbus proxy` tests on the bus side (pyzmq).
extension ChildProcess {
    /// Publishes `[topic, payload]` every 20 ms until stopped: the bridge subscribes to the bus only
    /// once it is connected to its broker, and a PUB socket cannot know when that is.
    private static let pyzmqRepeater = """
        import sys, time, zmq
        ctx = zmq.Context(); s = ctx.socket(zmq.PUB); s.connect(sys.argv[1])
        for _ in range(1000):
            s.send_multipart([sys.argv[2].encode(), sys.argv[3].encode()]); time.sleep(0.02)
        """

    private static let pyzmqSubscriber = """
        import sys, zmq
        ctx = zmq.Context(); s = ctx.socket(zmq.SUB); s.setsockopt(zmq.SUBSCRIBE, sys.argv[2].encode())
        s.setsockopt(zmq.RCVTIMEO, 30000); s.connect(sys.argv[1])
        print(' '.join(repr(frame) for frame in s.recv_multipart()), flush=True)
        """

    /// A pyzmq PUB on `endpoint` repeating one message (see ``pyzmqRepeater``).
    static func busPublisher(_ endpoint: String, topic: String, payload: String) throws -> ChildProcess {
        try python(pyzmqRepeater, [endpoint, topic, payload])
    }

    /// A pyzmq SUB on `endpoint` for `prefix`; prints the first message's frames exactly, as Python
    /// byte literals (`b'cmd/fan' b'on'`): a byte more in a frame, or a frame more, shows.
    static func busSubscriber(_ endpoint: String, prefix: String) throws -> ChildProcess {
        try python(pyzmqSubscriber, [endpoint, prefix])
    }

    /// A pyzmq SUB on `backend` for everything: prints `ready`, `synced` at the first `sync`
    /// message, then counts `data` messages (payload: their number) until `end` and prints
    /// `received N in-order` (or `OUT-OF-ORDER`).
    static func pyzmqCountingSubscriber(_ backend: String) throws -> ChildProcess {
        try python(pyzmqCountingSubscriber, [backend])
    }

    private static let pyzmqCountingSubscriber = """
        import sys, zmq
        ctx = zmq.Context(); s = ctx.socket(zmq.SUB); s.setsockopt(zmq.SUBSCRIBE, b'')
        s.connect(sys.argv[1]); print('ready', flush=True)
        n = 0; synced = False; in_order = True
        while True:
            t, p = s.recv_multipart()
            if t == b'sync':
                if not synced: print('synced', flush=True); synced = True
            elif t == b'end': break
            elif t == b'data':
                in_order = in_order and int(p) == n; n += 1
        print('received', n, 'in-order' if in_order else 'OUT-OF-ORDER', flush=True)
        s.close(linger=0); ctx.term()
        """

    /// Publishes `sync` (paced, not timed) until this ``pyzmqCountingSubscriber(_:)`` says its
    /// subscription has reached the proxy: a SUB's subscription travels asynchronously.
    func waitUntilSynced(probing publisher: BusPublisher) async throws {
        let probing = Task {
            while !Task.isCancelled {
                try? publisher.publish(topic: "sync", payload: "")
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        defer { probing.cancel() }
        _ = try await nextLine { $0 == "synced" }
    }
}
