import Synchronization

/// The lock around ``SubscriptionBufferState`` and the side effects of its actions.
final class SubscriptionStorage: Sendable {
    private let state: Mutex<SubscriptionBufferState>
    private let metrics: SubscriptionMetrics
    /// Called (outside the lock) when the consumer made room after the run loop paused reading.
    private let wakeRunLoop: Mutex<(@Sendable () -> Void)?> = Mutex(nil)

    init(capacity: Int, policy: BusSubscription.BufferPolicy, metrics: SubscriptionMetrics) {
        state = Mutex(SubscriptionBufferState(capacity: capacity, policy: policy))
        self.metrics = metrics
    }

    func setWakeHandler(_ handler: @escaping @Sendable () -> Void) {
        wakeRunLoop.withLock { $0 = handler }
    }

    /// Producer: hands over a batch; returns how many more messages may be read now.
    func deliver(_ batch: [BusMessage], rejected: BusSubscription.Statistics) -> Int {
        let ((action, room), change) = changing { $0.deliver(batch, rejected: rejected) }
        metrics.record(change)
        if case .resume(let waiter, let messages) = action { waiter.resume(returning: messages) }
        return room
    }

    /// Consumer: the next batch, or `nil` once the subscription has finished (or the task was cancelled).
    func nextBatch(isolation actor: isolated (any Actor)? = #isolation) async -> [BusMessage]? {
        while true {
            let (action, change) = changing { $0.take() }
            switch action {
            case .batch(let batch, let wake):
                metrics.record(change)
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
        let (waiter, change) = changing { $0.finish() }
        metrics.record(change)
        waiter?.resume(returning: nil)
    }

    /// Runs one event on the state under the lock, with the counters before and after it, for the
    /// metrics (recorded by the caller, after the lock is released).
    private func changing<Action>(_ event: (inout SubscriptionBufferState) -> Action) -> (
        Action, SubscriptionMetrics.Change
    ) {
        state.withLock { state in
            let before = state.statistics
            let action = event(&state)
            return (
                action, SubscriptionMetrics.Change(before: before, after: state.statistics, buffered: state.buffered)
            )
        }
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
