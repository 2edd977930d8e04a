import Synchronization
import ZeroMQ

/// Blocking work (a publisher that may wait at its high-water mark, a foreign ZeroMQ peer) runs on a
/// thread of its own, never on Swift's cooperative pool: two blocked pool threads on a 2-core
/// machine would starve the very consumers and shutdown tasks the scenario is exercising.
public final class DedicatedThread<Value: Sendable>: Sendable {
    private let thread: SocketThread
    private let result: Shared<Value?>

    /// Starts `body` on a new thread named `name`.
    public init(name: String, _ body: @escaping @Sendable () -> Value) {
        let result = Shared<Value?>(nil)
        self.result = result
        thread = SocketThread.start(name: name) {
            let value = body()
            result.value = value
        }
    }

    /// The body's value once it has returned, or `nil` if `deadline` passed first.
    public func value(before deadline: ContinuousClock.Instant) async -> Value? {
        guard await thread.waitForExit(until: deadline) else { return nil }
        return result.value
    }

    /// Whether the body has returned.
    public var hasExited: Bool { thread.exited.hasFired }
}
