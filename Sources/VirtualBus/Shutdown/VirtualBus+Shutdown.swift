import ConcurrencyPrimitives

extension VirtualBus {
    /// Shuts the bus down in order: cancel consumer tasks and finish every subscription's sequence
    /// -> stop every run loop (each closes its socket) -> close publishers -> stop the proxy ->
    /// terminate the ZeroMQ context.
    ///
    /// Bounded by `deadline`: a phase that cannot finish in time is reported in the returned
    /// ``ShutdownReport`` instead of hanging. Idempotent and safe to call concurrently: every caller
    /// gets the report of the one sequence. Safe to call from a subscription handler (the sequence
    /// never waits for the calling task). The blocking work runs on a thread the bus owns, never on
    /// the caller's executor.
    @discardableResult
    public func shutdown(deadline: ContinuousClock.Instant = .now + .seconds(5)) async -> ShutdownReport {
        let action = registry.withLock { registry in
            registry.beginShutdown { members in
                let sequence = shutdownSequence(members, deadline: deadline, order: configuration.shutdownOrder)
                return Task { await Self.run(sequence) }
            }
        }
        switch action {
        case .done(let report):
            return report
        case .await(let task):
            let report = await task.value
            registry.withLock { $0.shutdownFinished(report) }
            return report
        }
    }

    /// Runs the blocking sequence on its own thread and waits for it without blocking the executor.
    private static func run(_ sequence: ShutdownSequence) async -> ShutdownReport {
        let result = Locked<ShutdownReport?>(nil)
        let thread = DedicatedThread.start(name: "vbus-shutdown") {
            result.value = sequence.run()
        }
        await thread.exited.wait()
        _ = await thread.waitForExit(until: .now)
        return result.value ?? ShutdownReport()
    }
}
