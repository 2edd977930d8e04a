import Synchronization

/// A one-shot result that any number of tasks can await.
///
/// The state machine hands each request's `Waiter` back exactly once in a completion action;
/// `complete` ignores later calls, so a race between (say) a timeout and an acknowledgement
/// still yields one outcome. Continuations are resumed outside the lock.
final class Waiter<Value: Sendable>: Sendable {
    private struct State {
        var result: Result<Value, MQTTError>?
        var continuations: [CheckedContinuation<Value, any Error>] = []
    }

    private let state = Locked(State())
    /// Called once with the outcome (outside the lock); used for outcome counting.
    private let onComplete: (@Sendable (Result<Value, MQTTError>) -> Void)?

    init(onComplete: (@Sendable (Result<Value, MQTTError>) -> Void)? = nil) {
        self.onComplete = onComplete
    }

    /// Sets the result; returns false if it was already set.
    @discardableResult
    func complete(_ result: Result<Value, MQTTError>) -> Bool {
        let waiting: [CheckedContinuation<Value, any Error>]? = state.withLock { s in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.continuations = [] }
            return s.continuations
        }
        guard let waiting else { return false }
        onComplete?(result)
        for c in waiting { c.resume(with: result.mapError { $0 as any Error }) }
        return true
    }

    var result: Result<Value, MQTTError>? { state.withLock { $0.result } }

    /// Waits for the result. Not cancellable on purpose: the operation is already accepted and
    /// will reach an outcome (at the latest when the client shuts down).
    func value() async throws(MQTTError) -> Value {
        // A known outcome is returned without suspending: awaiting the tickets of a burst that
        // is already written (QoS 0) would otherwise cost a continuation and a resume each.
        if let known = result { return try known.get() }
        do {
            return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Value, any Error>) in
                let ready: Result<Value, MQTTError>? = state.withLock { s in
                    if let r = s.result { return r }
                    s.continuations.append(c)
                    return nil
                }
                if let ready { c.resume(with: ready.mapError { $0 as any Error }) }
            }
        } catch let error as MQTTError {
            throw error
        } catch {
            throw MQTTError(.shutdown, "unexpected error")
        }
    }
}
