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
/// libzmq sockets are not thread-safe; the mutex serialises every use, and its hand-over is the
/// full memory barrier libzmq requires when a socket moves between threads.
final class PublisherSocket: Sendable {
    private struct State: ~Copyable {
        var socket: ZMQSocket
        var scratch = ZMQMessage()
        var sendsSinceDrain = 0
        var counters = BusPublisher.Statistics()
        /// The last topic sent, already checked, with its bytes: a publisher mostly repeats its
        /// topics, and comparing two strings costs less than checking and converting one again.
        var lastTopic: (text: String, bytes: [UInt8])?

        /// `topic`'s bytes, once checked (``BusError/Code/invalidTopic``); a repeat of the last
        /// topic is neither checked nor converted again.
        mutating func checkedBytes(of topic: String) throws(BusError) -> [UInt8] {
            if let lastTopic, lastTopic.text == topic { return lastTopic.bytes }
            try BusTopic.validate(topic: topic)
            let bytes = Array(topic.utf8)
            lastTopic = (topic, bytes)
            return bytes
        }

        /// The send itself (the caller holds the lock). With `owner`, the payload is not copied.
        mutating func send(
            _ topic: [UInt8], _ payload: UnsafeRawBufferPointer, owner: SharedPayloadBytes?, dontWait: Bool,
            metrics: PublisherMetrics?
        ) throws(BusError) -> Bool {
            guard !socket.isClosed else { throw BusError.shutDown }
            return try mappingZMQErrors { () throws(ZMQError) -> Bool in
                // NODROP checks the mark on the first frame only; later frames of a message always
                // go. A waiting send tries without waiting first, so that waits can be counted (an
                // extra libzmq call only when the queue is full).
                var sent = try socket.send(topic, more: true, dontWait: true)
                if !sent && !dontWait {
                    metrics?.recordBlocked()
                    sent = try socket.send(topic, more: true, dontWait: false)
                }
                guard sent else {
                    counters.refused += 1
                    metrics?.recordRefused()
                    return false
                }
                if let owner {
                    _ = try socket.send(payload, owner: owner, more: false)
                } else {
                    _ = try socket.send(payload, more: false)
                }
                counters.published += 1
                metrics?.recordPublished()
                sendsSinceDrain += 1
                if sendsSinceDrain >= PublisherSocket.drainInterval {
                    sendsSinceDrain = 0
                    while try socket.receive(into: &scratch, dontWait: true) {}
                }
                return true
            }
        }
    }

    /// Sends between two drains of the subscription notices libzmq queues on an XPUB socket.
    fileprivate static let drainInterval = 256

    private let state: Mutex<State>
    /// The publisher's instruments; `nil` for the bus's own handshake probes, which are no one's
    /// publications.
    let metrics: PublisherMetrics?

    /// Creates the socket, connects it to `endpoint`, and waits (up to the subscribe timeout) until
    /// the proxy's subscribe-all has reached it.
    init(
        context: ZMQContext, endpoint: String, configuration: BusConfiguration, sendTimeout: Duration?,
        metrics: PublisherMetrics?
    ) throws(BusError) {
        let socket = try mappingZMQErrors { () throws(ZMQError) in
            let socket = try ZMQSocket(context, type: .xpub)
            try socket.setSendHighWaterMark(configuration.highWaterMark)
            try socket.setNoDrop(true)
            try socket.setLinger(milliseconds: configuration.lingerMilliseconds)
            try socket.setSendTimeout(milliseconds: sendTimeout.map { Int32(clamping: $0.milliseconds) } ?? 0)
            try socket.setReceiveTimeout(milliseconds: Int32(clamping: configuration.subscribeTimeout.milliseconds))
            try socket.applyClientSecurity(configuration, endpoint: endpoint)
            try socket.connect(endpoint)
            return socket
        }
        // The proxy's XSUB replays its subscriptions to every new pipe; ours is the empty prefix
        // (0x01 = subscribe, no prefix bytes). Other subscriptions may come first.
        while true {
            guard let frames = try mappingZMQErrors({ () throws(ZMQError) in try socket.receiveFrames() }) else {
                throw BusError(
                    .subscribeTimedOut,
                    "the bus proxy did not accept a new publisher within \(configuration.subscribeTimeout)")
            }
            if frames == [[1]] { break }
        }
        state = Mutex(State(socket: socket))
        self.metrics = metrics
    }

    /// Sends `[topic, payload]` after checking the topic (``BusError/Code/invalidTopic``). Returns
    /// `false` when the high-water mark refused the message (at once with `dontWait`, otherwise
    /// after the socket's send timeout).
    ///
    /// With `payloadOwner`, the payload is not copied: libzmq sends the bytes where they are and
    /// keeps `payloadOwner` alive until it is done with them.
    func send(
        topic: String, payload: UnsafeRawBufferPointer, payloadOwner: SharedPayloadBytes? = nil, dontWait: Bool
    ) throws(BusError) -> Bool {
        let payload = BorrowedBytes(payload)
        return try state.withLock { state throws(BusError) -> Bool in
            let topic = try state.checkedBytes(of: topic)
            return try state.send(topic, payload.buffer, owner: payloadOwner, dontWait: dontWait, metrics: metrics)
        }
    }

    /// Sends one of the bus's own messages, whose topic is outside what ``BusTopic`` allows (the
    /// reserved NUL prefix), without waiting.
    func send(internalTopic topic: [UInt8], payload: UnsafeRawBufferPointer) throws(BusError) -> Bool {
        let payload = BorrowedBytes(payload)
        return try state.withLock { state throws(BusError) -> Bool in
            try state.send(topic, payload.buffer, owner: nil, dontWait: true, metrics: metrics)
        }
    }

    /// Counts a message the publisher's policy dropped.
    func recordDrop() {
        state.withLock { $0.counters.dropped += 1 }
        metrics?.recordDropped()
    }

    var statistics: BusPublisher.Statistics {
        state.withLock { $0.counters }
    }

    var isClosed: Bool { state.withLock { $0.socket.isClosed } }

    /// Closes the socket; later sends throw ``BusError/Code/shutDown``. Idempotent.
    func close(lingerMilliseconds: Int32) {
        state.withLock { $0.socket.close(lingerMilliseconds: lingerMilliseconds) }
    }
}

/// A caller's buffer handed into the publisher's lock.
///
/// `@unchecked Sendable` because the buffer is only read, only inside the `send` call that received
/// it, while the caller keeps it alive; it never escapes the lock's closure.
private struct BorrowedBytes: @unchecked Sendable {
    let buffer: UnsafeRawBufferPointer
    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }
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
