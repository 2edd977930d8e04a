import Dispatch
import Synchronization

/// A serial executor that counts the jobs it is given: every hop onto an actor that uses it.
/// For tests that check an async sequence is consumed on the caller's actor, without a hop off
/// and back for every element.
public final class CountingExecutor: SerialExecutor {
    private let count = Atomic<Int>(0)
    private let queue = DispatchQueue(label: "counting-executor")

    public init() {}

    /// Jobs enqueued so far.
    public var jobs: Int { count.load(ordering: .relaxed) }

    public func enqueue(_ job: consuming ExecutorJob) {
        count.add(1, ordering: .relaxed)
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
}

/// A consumer isolated to an actor of its own (on a ``CountingExecutor``), as an application's
/// would be.
public actor IsolatedConsumer {
    public nonisolated let executor = CountingExecutor()
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init() {}

    /// Takes `count` elements of `sequence` with `for try await` on this actor; returns how many
    /// it took before the sequence ended.
    public func consume<Sequence: AsyncSequence & Sendable>(_ sequence: Sequence, count: Int) async throws -> Int {
        var received = 0
        for try await _ in sequence {
            received += 1
            if received == count { break }
        }
        return received
    }
}
