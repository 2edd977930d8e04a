/// A test's wait that ran out of time, naming what it waited for.
public struct TimedOut: Error, CustomStringConvertible {
    /// What was awaited, as the test put it.
    public let what: String
    /// How long the test waited.
    public let limit: Duration

    /// A timeout of `limit` while waiting for `what`.
    public init(what: String, limit: Duration) {
        self.what = what
        self.limit = limit
    }

    public var description: String { "timed out after \(limit): \(what)" }
}

/// Runs `body`, failing with ``TimedOut`` if it takes longer than `limit`, so a hang fails the test
/// instead of stalling the run. The body is cancelled on timeout.
public func withDeadline<T: Sendable>(
    _ limit: Duration = .seconds(10),
    _ what: String = "operation",
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TimedOut(what: what, limit: limit)
        }
        return value
    }
}

/// Waits until `condition` holds, checking again after each short pause; fails with ``TimedOut``
/// after `limit`, naming `what` as it reads then (so the message can carry the counters of the
/// moment). For state another thread or process updates: it returns as soon as the condition is
/// true, and it never stands in for synchronisation a test could await.
public func waitUntil(
    _ what: @autoclosure () -> String,
    within limit: Duration = .seconds(10),
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        if ContinuousClock.now >= deadline { throw TimedOut(what: what(), limit: limit) }
        await Task.yield()
        try await Task.sleep(for: .microseconds(500))
    }
}

extension AsyncSequence where Self: Sendable, Element: Sendable {
    /// Collects the first `count` elements, failing with ``TimedOut`` after `limit`.
    public func first(_ count: Int, within limit: Duration = .seconds(10)) async throws -> [Element] {
        try await withDeadline(limit, "receiving \(count) messages") {
            var collected: [Element] = []
            var iterator = self.makeAsyncIterator()
            while collected.count < count, let element = try await iterator.next() {
                collected.append(element)
            }
            return collected
        }
    }
}
