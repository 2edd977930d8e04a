import Dispatch
import Synchronization

/// An event that happens once and can be awaited by any number of tasks and threads, each with its
/// own deadline.
///
/// Waiting is cancellation-safe: a cancelled or timed-out waiter is removed, so nothing is left
/// suspended when the event never fires (the lost-completion bug in CONTEXT.md, report 4).
package final class OneShotEvent: Sendable {
    private struct State: ~Copyable {
        var fired = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelledBeforeSuspending: Set<UInt64> = []
        var blockingWaiters: [DispatchSemaphore] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// Whether ``fire()`` has been called.
    package var hasFired: Bool { state.withLock { $0.fired } }

    /// Fires the event and wakes every waiter. Later calls do nothing.
    package func fire() {
        let (waiters, semaphores) = state.withLock {
            state -> ([CheckedContinuation<Void, Never>], [DispatchSemaphore]) in
            guard !state.fired else { return ([], []) }
            state.fired = true
            defer {
                state.waiters = [:]
                state.blockingWaiters = []
            }
            return (Array(state.waiters.values), state.blockingWaiters)
        }
        // Resumed outside the lock: a resumed task may run at once and touch this event again.
        for waiter in waiters { waiter.resume() }
        for semaphore in semaphores { semaphore.signal() }
    }

    /// Waits until the event fires or the current task is cancelled.
    package func wait() async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired || state.cancelledBeforeSuspending.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                if !state.fired { state.cancelledBeforeSuspending.insert(id) }
                return nil
            }
            waiter?.resume()
        }
    }

    /// Waits until the event fires (`true`) or `deadline` passes (`false`).
    package func wait(until deadline: ContinuousClock.Instant) async -> Bool {
        if hasFired { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.wait()
                return self.hasFired
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || hasFired
        }
    }

    /// Blocks the calling thread until the event fires (`true`) or `timeout` passes (`false`).
    /// For synchronous paths only (a `deinit`); async code uses ``wait(until:)``.
    package func waitBlocking(timeout: Duration) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        let alreadyFired = state.withLock { state -> Bool in
            if state.fired { return true }
            state.blockingWaiters.append(semaphore)
            return false
        }
        if alreadyFired { return true }
        let nanoseconds = max(
            0, timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        _ = semaphore.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
        // A timed-out semaphore stays in the list until fire(); signalling it then is harmless.
        return hasFired
    }
}
