/// A one-shot result that any number of tasks can await.
///
/// Whoever holds a request's `Waiter` completes it exactly once; `complete` ignores later calls, so
/// a race between (say) a timeout and an acknowledgement still yields one outcome. Continuations
/// are resumed outside the lock.
package final class Waiter<Value: Sendable, Failure: Error>: Sendable {
    private struct State {
        var result: Result<Value, Failure>?
        var continuations: [CheckedContinuation<Result<Value, Failure>, Never>] = []
    }

    private let state = Locked(State())
    /// Called once with the outcome (outside the lock); used for outcome counting.
    private let onComplete: (@Sendable (Result<Value, Failure>) -> Void)?

    package init(onComplete: (@Sendable (Result<Value, Failure>) -> Void)? = nil) {
        self.onComplete = onComplete
    }

    /// Sets the result; returns false if it was already set.
    @discardableResult
    package func complete(_ result: Result<Value, Failure>) -> Bool {
        let waiting: [CheckedContinuation<Result<Value, Failure>, Never>]? = state.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.continuations = [] }
            return state.continuations
        }
        guard let waiting else { return false }
        onComplete?(result)
        for continuation in waiting { continuation.resume(returning: result) }
        return true
    }

    /// The result, once there is one.
    package var result: Result<Value, Failure>? { state.withLock { $0.result } }

    /// Waits for the result. Not cancellable on purpose: the operation is already accepted and
    /// will reach an outcome (at the latest when its owner shuts down).
    package func value() async throws(Failure) -> Value {
        // A known outcome is returned without suspending: awaiting the tickets of a burst that
        // is already written (MQTT QoS 0) would otherwise cost a continuation and a resume each.
        if let known = result { return try known.get() }
        let outcome = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Value, Failure>, Never>) in
            let ready: Result<Value, Failure>? = state.withLock { state in
                if let result = state.result { return result }
                state.continuations.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return try outcome.get()
    }
}
