import Testing
import TestSupport
@testable import VirtualBus

/// Payloads of every size class arrive byte for byte: small ones share an arena per batch, large ones
/// are libzmq's received buffer handed over without a copy, and both outlive the bus that
/// delivered them.
@Suite("Payload sizes: batch-buffered and handed-over payloads, exact and long-lived", .timeLimit(.minutes(1)))
struct PayloadSizeTests {
    static let sizes = [
        0, 1, 33, MessageReader.zeroCopyThreshold - 1, MessageReader.zeroCopyThreshold, 4_096, 70_000, 1 << 20,
    ]

    static func pattern(_ size: Int, seed: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) }
    }

    @Test("every size arrives exactly, in order, mixed in one stream; payloads stay valid after the bus shut down")
    func exactBytes() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["p/"])
        let publisher = try bus.makePublisher()
        let sent = Self.sizes.enumerated().map { index, size in Self.pattern(size, seed: index) }
        for (index, bytes) in sent.enumerated() { try publisher.publish(topic: "p/\(index)", payload: bytes) }
        let received = try await subscription.first(sent.count)
        #expect(await bus.shutdown().isComplete)
        // Read only now: a handed-over frame is owned by the payload, not by the bus.
        #expect(received.map(\.topic) == sent.indices.map { "p/\($0)" })
        for (message, bytes) in zip(received, sent) {
            #expect(message.payload.count == bytes.count)
            #expect(Array(message.payload) == bytes, "\(bytes.count) bytes by element")
            #expect(
                message.payload.withUnsafeBytes { Array($0) } == bytes, "\(bytes.count) bytes through withUnsafeBytes")
            #expect(message.payload == BusPayload(bytes) && message.payload.hashValue == BusPayload(bytes).hashValue)
        }
    }

    @Test("a burst of mixed small sizes fills arena after arena; kept messages stay intact after the rest are gone")
    func smallPayloadArenas() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["s/"])
        let publisher = try bus.makePublisher()
        // Sizes 0...zeroCopyThreshold - 1 in turn: many arenas per batch, and payloads that do not
        // fill an arena exactly, so a message's bytes sit at every kind of offset.
        let count = 3 * MessageReader.arenaBytes / 64
        let sizes = (0..<count).map { ($0 &* 37) % MessageReader.zeroCopyThreshold }
        for (index, size) in sizes.enumerated() {
            try publisher.publish(topic: "s/", payload: Self.pattern(size, seed: index))
        }
        var kept: [BusMessage] = []
        var received = 0
        for await message in subscription {
            let expected = Self.pattern(sizes[received], seed: received)
            #expect(Array(message.payload) == expected, "message \(received), \(expected.count) bytes")
            if received % 97 == 0 { kept.append(message) }
            received += 1
            if received == count { break }
        }
        #expect(await bus.shutdown().isComplete)
        // Every other message of their batches (and arenas) is gone by now.
        for (offset, message) in kept.enumerated() {
            let index = offset * 97
            #expect(Array(message.payload) == Self.pattern(sizes[index], seed: index), "kept message \(index)")
        }
    }

    @Test("payloads compare and hash by their bytes, whatever holds them; contiguous access is the bytes themselves")
    func payloadEquality() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["e/"])
        let publisher = try bus.makePublisher()
        let small = Self.pattern(40, seed: 1), large = Self.pattern(MessageReader.zeroCopyThreshold * 2, seed: 2)
        try publisher.publish(topic: "e/small", payload: small)
        try publisher.publish(topic: "e/large", payload: large)
        let received = try await subscription.first(2)
        for (message, bytes) in zip(received, [small, large]) {
            let own = BusPayload(bytes)
            #expect(message.payload == own && message.payload.hashValue == own.hashValue)
            #expect(message.payload.withContiguousStorageIfAvailable { Array($0) } == bytes)
            #expect(message.payload != BusPayload(Array(bytes.dropLast())))
        }
        #expect(BusPayload(small) != BusPayload(Self.pattern(40, seed: 3)))
        #expect(await bus.shutdown().isComplete)
    }

    @Test(
        "a large array sent without a copy is the publisher's to change at once: the message keeps what was published")
    func publisherKeepsItsArray() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["big"])
        let publisher = try bus.makePublisher()
        var bytes = Self.pattern(SharedPayloadBytes.threshold * 4, seed: 9)
        let original = bytes
        try publisher.publish(topic: "big", payload: bytes)
        bytes[0] &+= 1  // copy-on-write: the shared storage stays as sent
        bytes.removeAll()
        let received = try await subscription.first(1)
        #expect(Array(received[0].payload) == original)
        #expect(await bus.shutdown().isComplete)
    }

    @Test("large arrays refused at the high-water mark are released and counted; the queued ones all arrive intact")
    func refusedLargePayloads() async throws {
        var configuration = BusConfiguration()
        configuration.highWaterMark = 10
        let bus = try VirtualBus(configuration: configuration)
        // A subscriber that does not read yet: its buffer, its socket and the proxy fill, then the publisher's queue.
        let subscription = try await bus.subscribe(to: ["big"], bufferCapacity: 4)
        let publisher = try bus.makePublisher(policy: .drop)
        let payload = Self.pattern(SharedPayloadBytes.threshold, seed: 3)
        for _ in 0..<5_000 { try publisher.publish(topic: "big", payload: payload) }
        let statistics = publisher.statistics
        #expect(statistics.dropped > 0, "the queue never filled")
        #expect(statistics.published + statistics.dropped == 5_000)
        let received = try await subscription.first(statistics.published)
        #expect(received.allSatisfy { Array($0.payload) == payload })
        #expect(await bus.shutdown().isComplete)
    }
}
