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
    /// instead of being copied into the batch's arena: above it a copy costs more than the object.
    static let zeroCopyThreshold = 512

    /// A batch ends once its payloads reach this many bytes, whatever `limit` says: a consumer that
    /// holds a batch holds its memory, and batches of megabytes make the allocator hand pages back
    /// and fault them in again, batch after batch (measured: 5 page faults per 64 KiB message).
    static let batchBytes = 256 * 1024

    /// The most an arena of small payloads holds (at least one payload under `zeroCopyThreshold`).
    static let arenaBytes = 16 * 1024

    /// Reads up to `limit` messages without blocking. Returns the valid ones and the rejection counts.
    mutating func readBatch(from socket: borrowing ZMQSocket, limit: Int) throws(ZMQError) -> (
        [BusMessage], BusSubscription.Statistics
    ) {
        var batch: [BusMessage] = []
        batch.reserveCapacity(min(limit, 256))
        // Small payloads are copied into an arena shared by the batch (see `PayloadArena`); a large
        // one is its own received frame (see `zeroCopyThreshold`).
        var arena: PayloadArena?
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
            let payload = frame.unsafeBytes
            if isInternal {
                if isHandshake {
                    if payload.elementsEqual(handshakePayload) { handshakeDone.fire() }
                } else {
                    rejected.droppedInvalidTopic += 1
                }
                continue
            }
            guard let topic else {
                rejected.droppedInvalidTopic += 1
                continue
            }
            guard payload.count <= maximumPayload else {
                rejected.droppedOversized += 1
                continue
            }
            payloadBytes += payload.count
            if payload.count >= Self.zeroCopyThreshold {
                // Large: hand libzmq's buffer over instead of copying it (and keep large payloads
                // out of the arena, which would otherwise be megabytes of fresh pages).
                batch.append(BusMessage(topic: topic, payload: BusPayload(frame: frame.takeContent())))
                continue
            }
            let current: PayloadArena
            if let arena, arena.room >= payload.count {
                current = arena
            } else {
                // Room for the rest of the batch at this size, up to `arenaBytes`: a full arena is
                // followed by another, and a message the consumer keeps holds only its own arena.
                let rest = (limit - attempts + 1) * max(payload.count, 16)
                current = PayloadArena(capacity: min(rest, Self.arenaBytes))
                arena = current
            }
            batch.append(BusMessage(topic: topic, payload: BusPayload(arena: current, bytes: current.append(payload))))
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
