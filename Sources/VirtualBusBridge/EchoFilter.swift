import ConcurrencyPrimitives
import VirtualBusMQTT

/// Recognises the bridge's own messages when they come back: each message sent where the bridge
/// also listens is expected back once. Two are used: one for the bus (what the bridge brought in
/// from MQTT reaches its own outbound bus subscription), one for an MQTT 3.1.1 broker (which has no
/// No Local option and sends the bridge's publishes back to it).
///
/// Keyed by topic and payload; a count, not a set, so several identical messages in flight are
/// each matched once. Bounded: beyond `capacity` expectations the oldest are forgotten (and the
/// worst case is one message relayed twice, counted nowhere as lost).
final class EchoFilter: Sendable {
    private struct Key: Hashable {
        let topic: String
        let payload: [UInt8]
    }

    private struct State {
        var expected: [Key: Int] = [:]
        var order: [Key] = []
    }

    private let state = Locked(State())
    private let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// Records that a message is on its way out and may come back.
    func expect(topic: String, payload: [UInt8]) {
        state.withLock { state in
            let key = Key(topic: topic, payload: payload)
            state.expected[key, default: 0] += 1
            state.order.append(key)
            if state.order.count > capacity {
                let oldest = state.order.removeFirst()
                if let count = state.expected[oldest], count > 1 {
                    state.expected[oldest] = count - 1
                } else {
                    state.expected[oldest] = nil
                }
            }
        }
    }

    /// Whether an incoming message is one of ours coming back (consumes the expectation). Also how
    /// an expectation is withdrawn when the message was not sent after all.
    @discardableResult
    func consume(topic: String, payload: [UInt8]) -> Bool {
        state.withLock { state in
            // Most messages are not echoes: no hashing of the payload when nothing is expected.
            guard !state.expected.isEmpty else { return false }
            let key = Key(topic: topic, payload: payload)
            guard let count = state.expected[key] else { return false }
            state.expected[key] = count > 1 ? count - 1 : nil
            if let index = state.order.firstIndex(of: key) { state.order.remove(at: index) }
            return true
        }
    }
}
