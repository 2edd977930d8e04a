import Metrics
import Synchronization

/// The lock around ``SubscriptionBufferState`` and the side effects of its actions.
final class SubscriptionStorage: Sendable {
    private let state: Mutex<SubscriptionBufferState>
    private let deliveredCounter: Counter
    private let droppedCounter: Counter
    /// Called (outside the lock) when the consumer made room after the run loop paused reading.
    private let wakeRunLoop: Mutex<(@Sendable () -> Void)?> = Mutex(nil)

    init(capacity: Int, policy: BusSubscription.BufferPolicy) {
        state = Mutex(SubscriptionBufferState(capacity: capacity, policy: policy))
        deliveredCounter = Counter(label: "vbus_subscription_delivered_total")
        droppedCounter = Counter(label: "vbus_subscription_dropped_total")
    }

    func setWakeHandler(_ handler: @escaping @Sendable () -> Void) {
        wakeRunLoop.withLock { $0 = handler }
    }

    /// Producer: hands over a batch; returns how many more messages may be read now.
    func deliver(_ batch: [BusMessage], rejected: BusSubscription.Statistics) -> Int {
        let (action, room, droppedBefore, droppedAfter) = state.withLock { state in
            let before = state.statistics.dropped
            let (action, room) = state.deliver(batch, rejected: rejected)
            return (action, room, before, state.statistics.dropped)
        }
        if droppedAfter > droppedBefore { droppedCounter.increment(by: Int64(droppedAfter - droppedBefore)) }
        if case .resume(let waiter, let messages) = action {
            deliveredCounter.increment(by: Int64(messages.count))
            waiter.resume(returning: messages)
        }
        return room
    }

    /// Consumer: the next batch, or `nil` once the subscription has finished (or the task was cancelled).
    func nextBatch(isolation actor: isolated (any Actor)? = #isolation) async -> [BusMessage]? {
        while true {
            switch state.withLock({ $0.take() }) {
            case .batch(let batch, let wake):
                deliveredCounter.increment(by: Int64(batch.count))
                if wake { wakeRunLoop.withLock { $0 }?() }
                return batch
            case .finished:
                return nil
            case .suspend:
                if Task.isCancelled { return nil }
                let batch = await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: SubscriptionBufferState.Waiter) in
                        // Checking cancellation inside the lock closes the window between the
                        // check and parking in which a cancellation would otherwise be missed.
                        let parked = state.withLock { state -> Bool? in
                            Task.isCancelled ? nil : state.park(continuation)
                        }
                        switch parked {
                        case nil: continuation.resume(returning: nil)
                        case false?: continuation.resume(returning: [])
                        case true?: break
                        }
                    }
                } onCancel: {
                    state.withLock { $0.cancelWaiter() }?.resume(returning: nil)
                }
                guard let batch else { return nil }
                // An empty batch means something arrived while parking: take again.
                if !batch.isEmpty { return batch }
            }
        }
    }

    /// Ends the sequence, discarding (and counting) what is still buffered.
    func finish() {
        state.withLock { $0.finish() }?.resume(returning: nil)
    }

    var isFinished: Bool { state.withLock { $0.isFinished } }

    /// How many messages the run loop may read now (after a wake-up).
    var room: Int { state.withLock { $0.room } }

    var statistics: BusSubscription.Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.buffered = state.buffered
            return statistics
        }
    }
}
