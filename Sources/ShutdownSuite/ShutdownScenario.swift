public import TestSupport
public import VirtualBus

/// One way of driving a bus into shutdown. The suite's own scenarios are in ``ShutdownScenario/all``;
/// a component built on the bus can add its own and run them with ``ShutdownSuiteRunner``.
///
/// The body gets a fresh ``ScenarioHarness`` per iteration and must end by calling
/// ``ScenarioHarness/shutdown()`` (once or many times, from anywhere) or
/// ``ScenarioHarness/releaseBus(within:)``. Timing choices come from the harness's seeded generator,
/// so a seed replays the same choices.
public struct ShutdownScenario: Sendable {
    /// A short, unique, kebab-case name (`--scenario NAME`).
    public var name: String
    /// What the scenario does and what it proves.
    public var summary: String
    /// Adjusts the bus configuration before the bus is created.
    public var configure: @Sendable (inout BusConfiguration, inout SplitMix64) -> Void
    /// Drives the bus and shuts it down.
    public var body: @Sendable (ScenarioHarness) async throws -> Void

    /// Creates a scenario.
    public init(
        name: String,
        summary: String,
        configure: @escaping @Sendable (inout BusConfiguration, inout SplitMix64) -> Void = { _, _ in },
        body: @escaping @Sendable (ScenarioHarness) async throws -> Void
    ) {
        self.name = name
        self.summary = summary
        self.configure = configure
        self.body = body
    }

    /// Every built-in scenario, in the order the suite runs them.
    public static var all: [ShutdownScenario] {
        [
            idle, publishersMidBurst, slowConsumer, consumerCancelled, consumerStopped,
            subscribeDuringShutdown, shutdownFromHandler, concurrentShutdown(2), concurrentShutdown(10),
            pausedProxy, externalPeers, lingerPending, releasedWithoutShutdown, cancelDuringShutdown,
        ]
    }

    /// The built-in scenario called `name`.
    public static func named(_ name: String) -> ShutdownScenario? {
        all.first { $0.name == name }
    }
}
