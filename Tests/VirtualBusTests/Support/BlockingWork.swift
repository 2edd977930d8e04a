import ZeroMQ

/// Runs blocking work (a publisher that may wait at the high-water mark) on a thread of its own,
/// as an application should: blocking the few threads of Swift's cooperative pool would starve
/// the very consumers that must make room.
func onDedicatedThread<T: Sendable>(_ name: String = "test-worker", _ body: @escaping @Sendable () throws -> T) async throws -> T {
    let box = ResultBox<T>()
    let thread = SocketThread.start(name: name) { box.set(Result { try body() }) }
    await thread.exited.wait()
    // Returns early if the calling task is cancelled (a test that already failed): the thread
    // then finishes on its own, detached, and there is no result to return.
    guard await thread.waitForExit(until: .now) else { throw CancellationError() }
    return try box.get()
}

// @unchecked: written once by the worker thread before its exit event fires, read only after it.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    func set(_ value: Result<T, any Error>) { result = value }
    func get() throws -> T { try result!.get() }
}
