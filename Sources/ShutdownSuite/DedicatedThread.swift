import ZeroMQ

/// Blocking work (a publisher that may wait at its high-water mark, a foreign ZeroMQ peer) runs on a
/// thread of its own, never on Swift's cooperative pool: two blocked pool threads on a 2-core
/// machine would starve the very consumers and shutdown tasks the scenario is exercising.
public final class DedicatedThread<Value: Sendable>: Sendable {
    private let work: ThreadWork<Value>

    /// Starts `body` on a new thread named `name`.
    public init(name: String, _ body: @escaping @Sendable () -> Value) {
        work = ThreadWork(name: name, body)
    }

    /// The body's value once it has returned, or `nil` if `deadline` passed first.
    public func value(before deadline: ContinuousClock.Instant) async -> Value? {
        await work.value(before: deadline)
    }

    /// Whether the body has returned.
    public var hasExited: Bool { work.hasExited }
}
