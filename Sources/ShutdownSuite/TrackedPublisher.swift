import Synchronization
public import VirtualBus

/// A publisher whose accepted messages the suite counts per topic, so that every subscription's
/// expected total is known exactly.
///
/// Payloads are 16 bytes: the publisher's index and a sequence number (little-endian), so consumers
/// can check per-publisher order and spot duplicates. Use one tracked publisher from one thread at a
/// time (the `.drop` policy is detected by comparing counters around the call).
public final class TrackedPublisher: Sendable {
    /// The bus publisher.
    public let publisher: BusPublisher
    /// Position among the iteration's publishers; the first 8 bytes of every payload.
    public let index: Int
    private let state = Mutex<(sequence: UInt64, accepted: [String: Int])>((0, [:]))
    private let onAccept: @Sendable () -> Void

    init(publisher: BusPublisher, index: Int, onAccept: @escaping @Sendable () -> Void) {
        self.publisher = publisher
        self.index = index
        self.onAccept = onAccept
    }

    /// Publishes the next sequence number on `topic` with the publisher's policy. Returns whether
    /// libzmq accepted it; throws what the bus throws (``BusError/Code/shutDown`` once shutdown began).
    @discardableResult
    public func publish(topic: String) throws(BusError) -> Bool {
        let sequence = state.withLock { state in
            state.sequence += 1
            return state.sequence
        }
        let payload = Self.payload(index: index, sequence: sequence)
        let accepted: Bool
        switch publisher.policy {
        case .drop:
            let before = publisher.statistics.published
            try publisher.publish(topic: topic, payload: payload)
            accepted = publisher.statistics.published > before
        case .block, .failFast:
            do {
                try publisher.publish(topic: topic, payload: payload)
                accepted = true
            } catch  where error.code == .highWaterMark {
                accepted = false
            }
        }
        if accepted {
            state.withLock { $0.accepted[topic, default: 0] += 1 }
            onAccept()
        }
        return accepted
    }

    /// Messages accepted so far on each topic.
    public var accepted: [String: Int] { state.withLock { $0.accepted } }

    static func payload(index: Int, sequence: UInt64) -> [UInt8] {
        withUnsafeBytes(of: UInt64(index).littleEndian, Array.init)
            + withUnsafeBytes(of: sequence.littleEndian, Array.init)
    }

    /// `(publisher index, sequence)` from a payload, or `nil` if it was not made by ``payload(index:sequence:)``.
    static func decode(_ payload: [UInt8]) -> (index: Int, sequence: UInt64)? {
        guard payload.count == 16 else { return nil }
        return payload.withUnsafeBytes { bytes in
            (
                Int(UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))),
                UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
    }
}
