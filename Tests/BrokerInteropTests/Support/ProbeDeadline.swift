import Synchronization

/// Whether `body` finished within `limit`. A body that does not is cancelled and left to end
/// on its own (stopping the broker ends its connections): a structured group would wait for it,
/// and a probe's hang would become the test run's hang.
func withProbeDeadline(_ limit: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    let race = ProbeRace()
    return await withCheckedContinuation { continuation in
        race.start(continuation, limit: limit, body)
    }
}

/// The continuation of ``withProbeDeadline(_:_:)``, resumed once by whichever ends first.
private final class ProbeRace: Sendable {
    private let waiting = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func start(
        _ continuation: CheckedContinuation<Bool, Never>, limit: Duration, _ body: @escaping @Sendable () async -> Void
    ) {
        waiting.withLock { $0 = continuation }
        let work = Task {
            await body()
            self.finish(true)
        }
        Task {
            try? await Task.sleep(for: limit)
            work.cancel()
            self.finish(false)
        }
    }

    private func finish(_ inTime: Bool) {
        let continuation = waiting.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }
        continuation?.resume(returning: inTime)
    }
}
