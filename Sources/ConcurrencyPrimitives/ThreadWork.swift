/// Blocking work (waiting for a process, a broker, a tool) started now on a thread of its own,
/// never on one of Swift's few cooperative threads, its value awaited later.
package final class ThreadWork<Value: Sendable>: Sendable {
    private let thread: DedicatedThread
    /// Written by the thread before its exit event fires, read after it.
    private let result: Locked<Value?>

    /// Starts `body` on a new thread named `name`.
    package init(name: String, _ body: @escaping @Sendable () -> Value) {
        let result = Locked<Value?>(nil)
        self.result = result
        thread = DedicatedThread.start(name: name) { result.value = body() }
    }

    /// The body's value once it has returned, or `nil` if `deadline` passed first (the thread then
    /// finishes on its own, detached).
    package func value(before deadline: ContinuousClock.Instant) async -> Value? {
        guard await thread.waitForExit(until: deadline) else { return nil }
        return result.value
    }

    /// Whether the body has returned.
    package var hasExited: Bool { thread.exited.hasFired }
}
