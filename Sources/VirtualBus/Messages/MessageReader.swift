import ConcurrencyPrimitives
import ZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// The last topic seen, as bytes and as a validated string: a stream usually repeats topics,
    /// and reusing the string skips UTF-8 validation and, for long topics, an allocation.
    private var lastTopicBytes: [UInt8] = []
    private var lastTopic = ""

    init(subscriptionID: UInt64, maximumPayload: Int, handshakeDone: OneShotEvent) {
        handshakePayload = withUnsafeBytes(of: subscriptionID.littleEndian, Array.init)
        self.maximumPayload = maximumPayload
        self.handshakeDone = handshakeDone
    }

    /// Payloads from this size on are handed over as libzmq received them (one object each)
    /// instead of being copied into the batch buffer: above it a copy costs more than the object.
    static let zeroCopyThreshold = 512

    /// A batch ends once its payloads reach this many bytes, whatever `limit` says: a consumer that
    /// holds a batch holds its memory, and batches of megabytes make the allocator hand pages back
    /// and fault them in again, batch after batch (measured: 5 page faults per 64 KiB message).
    static let batchBytes = 256 * 1024

    /// Reads up to `limit` messages without blocking. Returns the valid ones and the rejection counts.
    mutating func readBatch(from socket: borrowing ZMQSocket, limit: Int) throws(ZMQError) -> (
        [BusMessage], BusSubscription.Statistics
    ) {
        // Payloads are appended to one buffer and the messages made at the end, sharing it: one
        // allocation per batch instead of one per message (freed on the consumer's thread, where
        // per-message frees of memory allocated here are what costs most).
        // A large payload is its own received frame instead (see `zeroCopyThreshold`).
        var pending: [(topic: String, offset: Int, count: Int, frame: ZMQFrameContent?)] = []
        pending.reserveCapacity(limit)
        var buffer: [UInt8] = []
        var rejected = BusSubscription.Statistics()
        var attempts = 0
        var payloadBytes = 0
        while attempts < limit, payloadBytes < Self.batchBytes, try socket.receive(into: &frame, dontWait: true) {
            attempts += 1
            guard frame.hasMore else {
                rejected.droppedMalformed += 1
                continue
            }
            // Valid only until the next receive into `frame`.
            let topicBytes = frame.unsafeBytes
            let topic = decodeTopic(topicBytes)
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
            payloadBytes += frame.count
            if frame.count >= Self.zeroCopyThreshold {
                // Large: hand libzmq's buffer over instead of copying it (and keep large payloads
                // out of the batch buffer, which would otherwise be megabytes of fresh pages).
                pending.append((topic, 0, 0, frame.takeContent()))
                continue
            }
            pending.append((topic, buffer.count, frame.count, nil))
            if buffer.count + frame.count > buffer.capacity {
                // Size the batch buffer from the payloads seen, not a guess, so that it does not
                // grow (and copy) again and again; a batch never holds more than `batchBytes`.
                buffer.reserveCapacity(
                    max(buffer.count + frame.count, min(limit * frame.count, Self.batchBytes + Self.zeroCopyThreshold)))
            }
            buffer.append(contentsOf: frame.unsafeBytes)
        }
        let batch = pending.map {
            BusMessage(
                topic: $0.topic,
                payload: $0.frame.map(BusPayload.init(frame:))
                    ?? BusPayload(sharing: buffer, offset: $0.offset, count: $0.count))
        }
        return (batch, rejected)
    }

    /// The topic as a string, or `nil` if it is not valid UTF-8 or holds a NUL (not a bus topic).
    private mutating func decodeTopic(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard !bytes.isEmpty else { return nil }
        if bytes.count == lastTopicBytes.count,
            lastTopicBytes.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) }) == 0
        {
            return lastTopic
        }
        guard memchr(bytes.baseAddress!, 0, bytes.count) == nil, let topic = Self.validUTF8(bytes) else { return nil }
        lastTopicBytes = Array(bytes)
        lastTopic = topic
        return topic
    }

    private static func validUTF8(_ bytes: UnsafeRawBufferPointer) -> String? {
        let decoded = String(decoding: bytes, as: UTF8.self)
        // Decoding repairs invalid sequences; a repaired string no longer matches the bytes.
        return decoded.utf8.elementsEqual(bytes) ? decoded : nil
    }

    private mutating func skipRemainingFrames(_ socket: borrowing ZMQSocket) throws(ZMQError) {
        while frame.hasMore { _ = try socket.receive(into: &frame) }
    }
}
