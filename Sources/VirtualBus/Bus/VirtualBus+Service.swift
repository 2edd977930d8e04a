public import ServiceLifecycle

extension VirtualBus: Service {
    /// Runs until graceful shutdown is requested (or the task is cancelled), then performs the
    /// ordered ``shutdown(deadline:)``. For use in a `ServiceGroup`.
    public func run() async throws {
        // Returns on graceful shutdown; throws CancellationError on cancellation: both end the bus.
        try? await gracefulShutdown()
        await shutdown()
    }
}

extension VirtualBus {
    /// Creates a bus, runs `body` with it, and shuts it down afterwards, also when `body` throws.
    public static func withBus<Result: Sendable>(
        configuration: BusConfiguration = BusConfiguration(),
        _ body: (VirtualBus) async throws -> Result
    ) async throws -> Result {
        let bus = try VirtualBus(configuration: configuration)
        do {
            let result = try await body(bus)
            await bus.shutdown()
            return result
        } catch {
            await bus.shutdown()
            throw error
        }
    }
}
