import ConcurrencyPrimitives
internal import NIOCore
import Synchronization

/// The bounded buffer between the network and one subscription's consumer.
///
/// The event loop only appends and, when the consumer is suspended, resumes it; the consumer
/// takes the whole buffer in one swap and iterates it without the lock (delivery in batches).
/// When full, the policy drops the oldest or the newest message and counts it; the network is
/// never blocked by a slow consumer.
///
/// A manual-acknowledgement buffer (`keepsAcknowledged`) never drops a message that waits for
/// ``MQTTMessage/acknowledge()``: dropping it would either lose it or hold the broker's slot
/// forever. Those are bounded by the broker's flow control instead (our Receive Maximum where the
/// broker keeps to it; its queue limit and the 65,535 packet identifiers where, like mosquitto
/// 2.0.11, it does not). QoS 0 messages that find it full are dropped (newest).
final class MQTTSubscriptionBuffer: Sendable {
    private struct State {
        var messages = CircularBuffer<MQTTMessage>()
        var waiter: CheckedContinuation<Void, Never>?
        var finished: MQTTError??  // .some(nil) = clean end, .some(error) = failed
        var dropped = 0
    }

    let capacity: Int
    let dropOldest: Bool
    let keepsAcknowledged: Bool
    private let state = Locked(State())
    private let onDrop: @Sendable () -> Void

    init(capacity: Int, dropOldest: Bool, keepsAcknowledged: Bool = false, onDrop: @escaping @Sendable () -> Void) {
        self.capacity = max(1, capacity)
        self.dropOldest = dropOldest && !keepsAcknowledged
        self.keepsAcknowledged = keepsAcknowledged
        self.onDrop = onDrop
    }

    var depth: Int { state.withLock { $0.messages.count } }
    var droppedCount: Int { state.withLock { $0.dropped } }

    func push(_ message: MQTTMessage) { push(contentsOf: CollectionOfOne(message)) }

    /// Appends a batch under one lock acquisition.
    func push(contentsOf messages: some Collection<MQTTMessage>) {
        var dropped = 0
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { s in
            guard s.finished == nil else { return nil }
            for message in messages {
                if s.messages.count >= capacity && !(keepsAcknowledged && message.requiresAcknowledgement) {
                    dropped += 1
                    s.dropped += 1
                    if dropOldest {
                        s.messages.removeFirst()
                        s.messages.append(message)
                    }
                } else {
                    s.messages.append(message)
                }
            }
            defer { s.waiter = nil }
            return s.waiter
        }
        for _ in 0..<dropped { onDrop() }
        waiter?.resume()
    }

    /// Ends the stream after the buffered messages; `error` is thrown to the consumer then.
    func finish(_ error: MQTTError?) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { s in
            if s.finished == nil { s.finished = .some(error) }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Removes the buffered messages that wait for an acknowledgement and returns their handles
    /// (for a manual subscription that ended: the consumer will not see them).
    func removeUnacknowledged() -> [MQTTInboundAcknowledgement] {
        state.withLock { s in
            var handles: [MQTTInboundAcknowledgement] = []
            var kept = CircularBuffer<MQTTMessage>(initialCapacity: s.messages.count)
            for message in s.messages {
                if let handle = message.acknowledgement { handles.append(handle) } else { kept.append(message) }
            }
            s.messages = kept
            return handles
        }
    }

    /// Takes everything buffered, waiting while empty. Returns an empty batch at the end.
    ///
    /// `spare` is the consumer's drained previous batch: it becomes the network's next buffer, so
    /// the two buffers keep their capacity instead of growing from scratch for every batch.
    func takeBatch(
        recycling spare: CircularBuffer<MQTTMessage> = CircularBuffer(initialCapacity: 16),
        isolation actor: isolated (any Actor)? = #isolation
    )
        async throws(MQTTError) -> CircularBuffer<MQTTMessage>
    {
        var spare = spare
        spare.removeAll(keepingCapacity: true)
        while true {
            if Task.isCancelled { return [] }
            enum Step { case batch(CircularBuffer<MQTTMessage>), end(MQTTError?), wait }
            let step: Step = state.withLock { s in
                if !s.messages.isEmpty {
                    var taken = spare
                    swap(&taken, &s.messages)
                    return .batch(taken)
                }
                if let finished = s.finished { return .end(finished) }
                return .wait
            }
            switch step {
            case .batch(let b): return b
            case .end(let error):
                if let error { throw error }
                return []
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { s in
                            if !s.messages.isEmpty || s.finished != nil || Task.isCancelled { return true }
                            s.waiter = c
                            return false
                        }
                        if resumeNow { c.resume() }
                    }
                } onCancel: {
                    let w = state.withLock { s in
                        defer { s.waiter = nil }
                        return s.waiter
                    }
                    w?.resume()
                }
            }
        }
    }
}
