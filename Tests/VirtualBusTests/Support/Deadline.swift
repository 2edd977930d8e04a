import Testing

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out: \(what)" }
}

/// Runs `body`, failing with ``TimedOut`` if it takes longer than `limit`, so a hang fails the test
/// instead of stalling the run. The body is cancelled on timeout.
func withDeadline<T: Sendable>(
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
            throw TimedOut(what: what)
        }
        return value
    }
}

/// Waits until `condition` holds, checking after each scheduler turn; fails after `limit`.
/// For observing counters that another thread updates (not a sleep: it returns the moment the
/// condition is true).
func waitUntil(_ what: String, within limit: Duration = .seconds(10), _ condition: @escaping @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        if ContinuousClock.now >= deadline { throw TimedOut(what: what) }
        await Task.yield()
        try await Task.sleep(for: .microseconds(200))
    }
}

extension AsyncSequence where Self: Sendable, Element: Sendable {
    /// Collects the first `count` elements, failing after `limit`.
    func first(_ count: Int, within limit: Duration = .seconds(10)) async throws -> [Element] {
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
