/// The bounded hand-over between a subscriber run loop (producer, one OS thread) and the async
/// consumer: a value-type state machine that lives behind a lock in ``SubscriptionStorage``.
///
/// Every event returns what must happen next; the caller performs it after releasing the lock
/// (resuming a continuation inside the lock could run the consumer inline and re-enter).
/// Messages move in batches: the run loop delivers up to a batch per lock, and the consumer takes
/// everything buffered at once, so the lock and the continuation are paid per batch, not per message.
struct SubscriptionBufferState {
    typealias Waiter = CheckedContinuation<[BusMessage]?, Never>

    let capacity: Int
    let policy: BusSubscription.BufferPolicy
    private(set) var messages: [BusMessage] = []
    private var waiter: Waiter?
    private(set) var isFinished = false
    /// The run loop stopped reading because the buffer is full (backpressure policy only).
    private(set) var isReadingPaused = false
    private(set) var statistics = BusSubscription.Statistics()

    init(capacity: Int, policy: BusSubscription.BufferPolicy) {
        self.capacity = capacity
        self.policy = policy
    }

    // MARK: Producer side

    enum DeliverAction {
        case none
        case resume(Waiter, [BusMessage])
    }

    /// Takes a batch from the run loop, with the counts of what the run loop rejected. Returns the
    /// action and how many more messages the run loop may read now (0: stop reading until woken).
    mutating func deliver(_ batch: [BusMessage], rejected: BusSubscription.Statistics) -> (
        action: DeliverAction, room: Int
    ) {
        statistics.droppedMalformed += rejected.droppedMalformed
        statistics.droppedOversized += rejected.droppedOversized
        statistics.droppedInvalidTopic += rejected.droppedInvalidTopic
        if isFinished {
            statistics.discardedAtShutdown += batch.count
            return (.none, 0)
        }
        if let waiter, !batch.isEmpty {
            // A waiting consumer means the buffer is empty: hand the batch over directly.
            self.waiter = nil
            statistics.delivered += batch.count
            return (.resume(waiter, batch), capacity)
        }
        append(batch)
        let room = capacity - messages.count
        if policy == .backpressure && room <= 0 {
            isReadingPaused = true
        }
        return (.none, policy == .backpressure ? max(room, 0) : capacity)
    }

    private mutating func append(_ batch: [BusMessage]) {
        let room = capacity - messages.count
        switch policy {
        case .backpressure:
            // The run loop never reads more than the room it was given.
            messages.append(contentsOf: batch)
        case .dropNewest:
            if batch.count <= room {
                messages.append(contentsOf: batch)
            } else {
                messages.append(contentsOf: batch.prefix(max(room, 0)))
                statistics.droppedBufferFull += batch.count - max(room, 0)
            }
        case .dropOldest:
            messages.append(contentsOf: batch)
            let excess = messages.count - capacity
            if excess > 0 {
                messages.removeFirst(excess)
                statistics.droppedBufferFull += excess
            }
        }
    }

    // MARK: Consumer side

    enum TakeAction {
        /// Messages to return; `wakeRunLoop` when the run loop paused for room and must resume.
        case batch([BusMessage], wakeRunLoop: Bool)
        case finished
        case suspend
    }

    mutating func take() -> TakeAction {
        if !messages.isEmpty {
            let batch = messages
            messages = []
            messages.reserveCapacity(min(capacity, 1024))
            statistics.delivered += batch.count
            let wake = isReadingPaused
            isReadingPaused = false
            return .batch(batch, wakeRunLoop: wake)
        }
        return isFinished ? .finished : .suspend
    }

    /// Parks the consumer. Returns `false` (and does not park) if a message or the end arrived in
    /// between; the caller then takes again.
    mutating func park(_ waiter: Waiter) -> Bool {
        precondition(self.waiter == nil, "a BusSubscription supports one consumer at a time")
        guard messages.isEmpty, !isFinished else { return false }
        self.waiter = waiter
        return true
    }

    /// The consumer's task was cancelled while parked: returns the waiter to resume with `nil`.
    mutating func cancelWaiter() -> Waiter? {
        defer { waiter = nil }
        return waiter
    }

    // MARK: End

    /// Ends the sequence. Buffered messages are discarded and counted; a parked consumer is returned
    /// so the caller resumes it with `nil`.
    mutating func finish() -> Waiter? {
        guard !isFinished else { return nil }
        isFinished = true
        statistics.discardedAtShutdown += messages.count
        messages = []
        defer { waiter = nil }
        return waiter
    }

    var buffered: Int { messages.count }

    /// How many messages the run loop may read now.
    var room: Int { policy == .backpressure ? max(capacity - messages.count, 0) : capacity }
}
