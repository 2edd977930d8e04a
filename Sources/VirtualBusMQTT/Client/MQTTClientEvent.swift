import ConcurrencyPrimitives
/// What happened to an ``MQTTClient``'s connection and publish queue, as it happens: for a log or
/// a terminal, so a broker that is not there, or goes away and comes back, and a queue that
/// overflows, are said out loud rather than only retried and counted.
public enum MQTTClientEvent: Sendable, Equatable {
    /// A connection attempt failed before the broker accepted it. `retryIn` is the delay before
    /// the next attempt; `nil` when the client gives up (and ends with `error`).
    case connectFailed(MQTTError, retryIn: Duration?)
    /// An established connection ended. `retryIn` as for ``connectFailed(_:retryIn:)``.
    case connectionLost(MQTTError, retryIn: Duration?)
    /// The broker accepted a connection (CONNACK). `downtime` is the time since the previous
    /// connection was lost (`nil` for the first); `resent` counts the QoS 1/2 publishes and PUBRELs
    /// sent again because the session was resumed, or, with no session (another node of a
    /// cluster), the publishes that were in flight and are sent again as new ones.
    case connected(sessionPresent: Bool, downtime: Duration?, resent: Int)
    /// The publish queue is full and its drop policy started failing publishes with
    /// ``MQTTError/Code/droppedByPolicy``: said once, at the first drop, until the queue has room
    /// again. `dropped` is the number dropped by policy since the client started.
    case publishQueueOverflow(capacity: Int, dropped: Int)
}

/// The open ``MQTTClient/events()`` streams of one client.
final class ClientEventStreams: Sendable {
    private struct Streams {
        var continuations: [UInt64: AsyncStream<MQTTClientEvent>.Continuation] = [:]
        var nextID: UInt64 = 0
        var finished = false
    }

    private let streams = Locked(Streams())

    /// A new stream of events from now on; it finishes when the client ends. The newest 64 are
    /// kept for a consumer that is behind: events are for people, and a slow reader must never
    /// hold up the connection.
    func makeStream() -> AsyncStream<MQTTClientEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: MQTTClientEvent.self, bufferingPolicy: .bufferingNewest(64))
        let id: UInt64? = streams.withLock { s in
            guard !s.finished else { return nil }
            s.nextID += 1
            s.continuations[s.nextID] = continuation
            return s.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.streams.withLock { _ = $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    func emit(_ event: MQTTClientEvent) {
        for continuation in streams.withLock({ Array($0.continuations.values) }) { continuation.yield(event) }
    }

    func finish() {
        let continuations = streams.withLock { s in
            s.finished = true
            defer { s.continuations = [:] }
            return Array(s.continuations.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}
