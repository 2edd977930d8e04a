package import VirtualBus

/// Runs scenarios for many seeded iterations under the watchdog and summarises them.
///
/// ```swift
/// let summary = await ShutdownSuiteRunner().run(.publishersMidBurst, iterations: 200, seed: 42)
/// #expect(summary.failures.isEmpty, "\(summary.failures)")
/// ```
public struct ShutdownSuiteRunner: Sendable {
    /// The deadline each shutdown call gets.
    public var shutdownDeadline: Duration = .seconds(2)
    /// How long past the deadline the watchdog waits before it declares a hang, and how long
    /// consumers and publisher threads may take to end after shutdown returned.
    public var grace: Duration = .seconds(3)
    /// How late a shutdown may return past its deadline (scheduling noise, sanitizers).
    public var lateness: Duration = .milliseconds(500)
    /// How long a scenario may take to reach shutdown.
    public var setupLimit: Duration = .seconds(30)
    /// Test-only: the order the bus shuts down in. `.terminateContextFirst` is the seed's bug and
    /// must make every iteration fail; that is how the suite proves it can fail.
    package var shutdownOrder: ShutdownOrder = .ordered

    /// A runner with the default limits.
    public init() {}

    /// Runs one iteration of `scenario` with `seed`.
    public func runIteration(_ scenario: ShutdownScenario, seed: UInt64) async -> IterationResult {
        let watchdog = Watchdog(
            setupLimit: setupLimit, grace: grace, lateness: lateness,
            shutdownDeadline: shutdownDeadline, shutdownOrder: shutdownOrder
        )
        return await watchdog.run(scenario, seed: seed)
    }

    /// Runs `iterations` iterations with seeds `seed`, `seed + 1`, ...; stops at the first failure
    /// unless `keepGoing`. A hang abandons its iteration's threads, so keep going only in a child
    /// process you can afford to lose.
    public func run(
        _ scenario: ShutdownScenario,
        iterations: Int,
        seed: UInt64,
        keepGoing: Bool = false,
        progress: (@Sendable (Int) -> Void)? = nil
    ) async -> ScenarioSummary {
        var summary = ScenarioSummary(scenario: scenario.name)
        let start = ContinuousClock.now
        for iteration in 0..<iterations {
            let result = await runIteration(scenario, seed: seed &+ UInt64(iteration))
            summary.iterations += 1
            summary.accounting.add(result.accounting)
            if let duration = result.shutdownDuration { summary.shutdownDurations.append(duration) }
            progress?(iteration + 1)
            if let failure = result.failure {
                summary.failures.append(failure)
                if !keepGoing { break }
            }
        }
        summary.elapsed = .now - start
        return summary
    }
}

/// The outcome of many iterations of one scenario.
public struct ScenarioSummary: Sendable, CustomStringConvertible {
    /// The scenario's name.
    public var scenario: String
    /// Iterations run.
    public var iterations = 0
    /// Every failure (at most one unless the run kept going).
    public var failures: [ShutdownFailure] = []
    /// Shutdown (or release) durations of the iterations that returned.
    public var shutdownDurations: [Duration] = []
    /// Message accounting summed over iterations.
    public var accounting = Accounting()
    /// Wall time of the run.
    public var elapsed: Duration = .zero

    /// The shutdown duration below which `fraction` of iterations fall (nearest rank).
    public func percentile(_ fraction: Double) -> Duration {
        guard !shutdownDurations.isEmpty else { return .zero }
        let sorted = shutdownDurations.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    public var description: String {
        let a = accounting
        return
            """
            \(scenario): \(iterations) iterations, \(failures.isEmpty ? "ok" : "\(failures.count) FAILED") in \
            \(Self.format(elapsed));
            """
                + """
                 shutdown p50 \(Self.format(percentile(0.5))) p99 \(Self.format(percentile(0.99))) max \
                \(Self.format(percentile(1)));
                """
                    + """
                     messages expected \(a.expected) confirmed \(a.confirmed) delivered \(a.delivered) dropped \
                    \(a.dropped) in-flight-lost \(a.lostInFlight)
                    """
    }

    /// Milliseconds with two decimals.
    public static func format(_ duration: Duration) -> String {
        let microseconds = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        let hundredths = microseconds / 10
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100) ms"
    }
}
