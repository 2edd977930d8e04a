import Testing
import TestSupport
@testable import VirtualBus

/// Payloads of every size class arrive byte for byte: small ones share a batch buffer, large ones
/// are libzmq's received buffer handed over without a copy, and both outlive the bus that
/// delivered them.
@Suite("Payload sizes: batch-buffered and handed-over payloads, exact and long-lived", .timeLimit(.minutes(1)))
struct PayloadSizeTests {
    static let sizes = [0, 1, 33, MessageReader.zeroCopyThreshold - 1, MessageReader.zeroCopyThreshold, 4_096, 70_000, 1 << 20]

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
            #expect(message.payload.withUnsafeBytes { Array($0) } == bytes, "\(bytes.count) bytes through withUnsafeBytes")
            #expect(message.payload == BusPayload(bytes) && message.payload.hashValue == BusPayload(bytes).hashValue)
        }
    }
}
