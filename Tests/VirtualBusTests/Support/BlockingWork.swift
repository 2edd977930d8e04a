import ConcurrencyPrimitives

/// Runs blocking work (a publisher that may wait at the high-water mark) on a thread of its own,
/// as an application should: blocking the few threads of Swift's cooperative pool would starve
/// the very consumers that must make room.
func onDedicatedThread<T: Sendable>(_ name: String = "test-worker", _ body: @escaping @Sendable () throws -> T)
    async throws -> T
{
    // No deadline of its own (the suites' time limits bound it); returns early if the calling
    // task is cancelled (a test that already failed): the thread then finishes on its own, detached.
    let result = await ThreadWork(name: name) {
        Result { () throws -> T in try body() }
    }.value(before: .now + .seconds(86_400))
    guard let result else { throw CancellationError() }
    return try result.get()
}
