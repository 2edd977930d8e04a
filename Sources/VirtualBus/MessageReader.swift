import ZeroMQ

/// Reads and validates messages from a SUB socket for one run loop.
///
/// A bus message is exactly two frames, `[topic, payload]`. Anything else a foreign peer sends
/// (one frame, three or more, an oversized payload, a topic that is not UTF-8) is counted and
/// dropped here; it never reaches the consumer and never stops the run loop.
struct MessageReader: ~Copyable {
    private var frame = ZMQMessage()
    private let handshakePayload: [UInt8]
    private let maximumPayload: Int
    private let handshakeDone: OneShotEvent

    init(subscriptionID: UInt64, maximumPayload: Int, handshakeDone: OneShotEvent) {
        handshakePayload = withUnsafeBytes(of: subscriptionID.littleEndian, Array.init)
        self.maximumPayload = maximumPayload
        self.handshakeDone = handshakeDone
    }

    /// Reads up to `limit` messages without blocking. Returns the valid ones and the rejection counts.
    mutating func readBatch(from socket: borrowing ZMQSocket, limit: Int) throws(ZMQError) -> ([BusMessage], BusSubscription.Statistics) {
        var batch: [BusMessage] = []
        batch.reserveCapacity(limit)
        var rejected = BusSubscription.Statistics()
        var attempts = 0
        while attempts < limit, try socket.receive(into: &frame, dontWait: true) {
            attempts += 1
            guard frame.hasMore else {
                rejected.droppedMalformed += 1
                continue
            }
            // Valid only until the next receive into `frame`.
            let topicBytes = frame.unsafeBytes
            let topic = String(validating: topicBytes.bindMemory(to: UInt8.self), as: UTF8.self)
            let isInternal = topicBytes.first == 0
            let isHandshake = isInternal && topicBytes.elementsEqual(BusTopic.handshakeTopic)
            // The rest of a multipart message is already queued: libzmq delivers messages atomically.
            _ = try socket.receive(into: &frame)
            guard !frame.hasMore else {
                try skipRemainingFrames(socket)
                rejected.droppedMalformed += 1
                continue
            }
            if isInternal {
                if isHandshake {
                    if frame.unsafeBytes.elementsEqual(handshakePayload) { handshakeDone.fire() }
                } else {
                    rejected.droppedInvalidTopic += 1
                }
                continue
            }
            guard let topic else {
                rejected.droppedInvalidTopic += 1
                continue
            }
            guard frame.count <= maximumPayload else {
                rejected.droppedOversized += 1
                continue
            }
            batch.append(BusMessage(topic: topic, payload: Array(frame.unsafeBytes)))
        }
        return (batch, rejected)
    }

    private mutating func skipRemainingFrames(_ socket: borrowing ZMQSocket) throws(ZMQError) {
        while frame.hasMore { _ = try socket.receive(into: &frame) }
    }
}
