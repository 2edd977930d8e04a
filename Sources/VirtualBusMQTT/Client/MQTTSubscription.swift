internal import NIOCore
import Synchronization

/// The messages matching a set of topic filters, as an `AsyncSequence`.
///
/// Backed by a bounded buffer (``MQTTClientConfiguration/subscriptionBufferCapacity``) whose
/// policy drops the oldest or newest message when the consumer falls behind; drops are counted
/// in ``droppedCount`` and in metrics. Messages are produced by the network and consumed in
/// your task, never on the event loop, so awaiting a publish inside the loop cannot deadlock.
///
/// The subscription ends (and the broker subscription is released when no other local
/// subscription shares its filter) when you call ``cancel()`` / ``unsubscribe()``, when the
/// value is deinitialised, or when the client shuts down. Only one iterator may be made.
public final class MQTTSubscription: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = MQTTMessage
    /// What ends the sequence with an error: the session ending with one.
    public typealias Failure = MQTTError

    /// The filters this subscription matches.
    public let filters: [MQTTTopicFilter]
    /// The broker's reason codes (granted QoS per filter) from the SUBACK that set it up.
    public let reasonCodes: [MQTTReasonCode]
    let id: UInt64
    let buffer: MQTTSubscriptionBuffer
    private let release: @Sendable (UInt64) async throws(MQTTError) -> Void
    private let releaseNow: @Sendable (UInt64) -> Void
    private let iteratorMade = Atomic<Bool>(false)

    init(
        id: UInt64, filters: [MQTTTopicFilter], reasonCodes: [MQTTReasonCode], buffer: MQTTSubscriptionBuffer,
        release: @escaping @Sendable (UInt64) async throws(MQTTError) -> Void,
        releaseNow: @escaping @Sendable (UInt64) -> Void
    ) {
        self.id = id
        self.filters = filters
        self.reasonCodes = reasonCodes
        self.buffer = buffer
        self.release = release
        self.releaseNow = releaseNow
    }

    deinit { releaseNow(id) }

    /// Messages dropped because the buffer was full.
    public var droppedCount: Int { buffer.droppedCount }
    /// Messages buffered and not yet consumed.
    public var bufferedCount: Int { buffer.depth }

    /// Ends the subscription now without waiting for the broker (UNSUBSCRIBE is sent if needed).
    public func cancel() { releaseNow(id) }

    /// Ends the subscription and waits for the broker's UNSUBACK when the filter is released.
    public func unsubscribe() async throws(MQTTError) { try await release(id) }

    /// Makes the (single) iterator.
    public func makeAsyncIterator() -> Iterator {
        precondition(!iteratorMade.exchange(true, ordering: .relaxed), "an MQTTSubscription can be iterated only once")
        return Iterator(subscription: self)
    }

    /// Iterates messages; throws when the session ends with an error.
    public struct Iterator: AsyncIteratorProtocol {
        let subscription: MQTTSubscription
        var batch = CircularBuffer<MQTTMessage>()

        /// The next message, or `nil` once the subscription ended.
        public mutating func next() async throws(MQTTError) -> MQTTMessage? {
            try await next(isolation: nil)
        }

        /// The next message, taken on the caller's actor (what `for try await` calls).
        ///
        /// Implemented rather than left to the standard library's generic default, which calls
        /// ``next()`` unspecialised and, from an actor, hops off and back for every message.
        public mutating func next(isolation actor: isolated (any Actor)? = #isolation) async throws(MQTTError)
            -> MQTTMessage?
        {
            if let m = batch.popFirst() { return m }
            batch = try await subscription.buffer.takeBatch(recycling: batch)
            return batch.popFirst()
        }
    }
}
