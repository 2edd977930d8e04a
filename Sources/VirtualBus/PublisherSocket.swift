import Synchronization
import ZeroMQ

/// The libzmq side of a publisher: an XPUB socket connected to the proxy's XSUB, behind a lock.
///
/// Why XPUB and not PUB: a PUB socket filters by the subscriptions it has *processed*, and a fresh
/// one may send before the proxy's subscribe-all reaches it, losing the message silently. XPUB lets
/// us receive that subscribe-all, so a publisher is only handed out once its filter passes
/// everything (the proxy's XPUB then filters per subscriber). `ZMQ_XPUB_NODROP` turns the
/// high-water mark into `EAGAIN` instead of a silent drop.
///
/// libzmq sockets are not thread-safe; `lock` serialises every use, and its hand-over is the full
/// memory barrier libzmq requires when a socket moves between threads.
// @unchecked: every stored `var` below is read and written only while `lock` is held. (A
// `Mutex<State>` cannot be used: the caller's payload buffers are non-Sendable, and passing them
// into the lock's `inout sending` state would merge their isolation regions.)
final class PublisherSocket: @unchecked Sendable {
    /// Sends between two drains of the subscription notices libzmq queues on an XPUB socket.
    private static let drainInterval = 256

    private let lock = Mutex(())
    private var socket: ZMQSocket
    private var scratch = ZMQMessage()
    private var sendsSinceDrain = 0
    private var counters = BusPublisher.Statistics()

    /// Creates the socket, connects it to `endpoint`, and waits (up to the subscribe timeout) until
    /// the proxy's subscribe-all has reached it.
    init(context: ZMQContext, endpoint: String, configuration: BusConfiguration, sendTimeout: Duration?) throws(BusError) {
        let socket = try mappingZMQErrors { () throws(ZMQError) in
            let socket = try ZMQSocket(context, type: .xpub)
            try socket.setSendHighWaterMark(configuration.highWaterMark)
            try socket.setNoDrop(true)
            try socket.setLinger(milliseconds: configuration.lingerMilliseconds)
            try socket.setSendTimeout(milliseconds: sendTimeout.map { Int32(clamping: $0.milliseconds) } ?? 0)
            try socket.setReceiveTimeout(milliseconds: Int32(clamping: configuration.subscribeTimeout.milliseconds))
            try socket.connect(endpoint)
            return socket
        }
        // The proxy's XSUB replays its subscriptions to every new pipe; ours is the empty prefix
        // (0x01 = subscribe, no prefix bytes). Other subscriptions may come first.
        while true {
            guard let frames = try mappingZMQErrors({ () throws(ZMQError) in try socket.receiveFrames() }) else {
                throw BusError(.subscribeTimedOut, "the bus proxy did not accept a new publisher within \(configuration.subscribeTimeout)")
            }
            if frames == [[1]] { break }
        }
        self.socket = socket
    }

    /// Sends `[topic, payload]`. Returns `false` when the high-water mark refused the message
    /// (at once with `dontWait`, otherwise after the socket's send timeout).
    func send(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, dontWait: Bool) throws(BusError) -> Bool {
        try lock.withLock { _ throws(BusError) -> Bool in
            guard !socket.isClosed else { throw BusError.shutDown }
            return try mappingZMQErrors { () throws(ZMQError) -> Bool in
                // NODROP checks the mark on the first frame only; later frames of a message always go.
                guard try socket.send(topic, more: true, dontWait: dontWait) else {
                    counters.refused += 1
                    return false
                }
                _ = try socket.send(payload, more: false)
                counters.published += 1
                sendsSinceDrain += 1
                if sendsSinceDrain >= Self.drainInterval {
                    sendsSinceDrain = 0
                    while try socket.receive(into: &scratch, dontWait: true) {}
                }
                return true
            }
        }
    }

    /// Counts a message the publisher's policy dropped.
    func recordDrop() {
        lock.withLock { _ in counters.dropped += 1 }
    }

    var statistics: BusPublisher.Statistics {
        lock.withLock { _ in counters }
    }

    var isClosed: Bool { lock.withLock { _ in socket.isClosed } }

    /// Closes the socket; later sends throw ``BusError/Code/shutDown``. Idempotent.
    func close(lingerMilliseconds: Int32) {
        lock.withLock { _ in socket.close(lingerMilliseconds: lingerMilliseconds) }
    }
}

extension BusError {
    /// Wraps an unexpected libzmq failure, naming the endpoint when there is one.
    init(transport error: ZMQError) {
        if error.isAddressInUse, let endpoint = error.endpoint {
            self.init(.addressInUse, "address already in use: \(endpoint)", endpoint: endpoint)
        } else if error.isContextTerminated {
            self = .shutDown
        } else {
            self.init(.transport, error.description, endpoint: error.endpoint)
        }
    }
}
