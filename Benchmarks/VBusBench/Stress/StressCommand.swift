import ArgumentParser
import Foundation
import ShutdownSuite

/// `vbus-bench stress ...`: long randomized runs of the correctness suites, for release checks.
struct StressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Long randomized runs of the correctness suites (see docs/shutdown-correctness.md).",
        subcommands: [StressShutdownCommand.self]
    )
}

/// `vbus-bench stress shutdown`: every shutdown scenario for N seeded iterations under the watchdog.
struct StressShutdownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shutdown",
        abstract: "Run the shutdown-correctness scenarios; exits non-zero at the first failure, printing its seed."
    )

    @Option(help: "Iterations per scenario.") var iterations = 200
    @Option(help: "Seed of the first iteration (iteration i uses seed + i); random if omitted.") var seed: UInt64?
    @Option(help: "Run only this scenario (see --list).") var scenario: String?
    @Option(help: "Deadline of each shutdown call, in milliseconds.") var deadline = 2000
    @Flag(help: "List the scenarios and exit.") var list = false

    func run() async throws {
        // The bridge scenarios share one private mosquitto, started on first use, stopped on exit.
        let broker = BridgeBroker()
        let catalogue = ShutdownScenario.all + ShutdownScenario.bridgeScenarios(broker: broker)
        if list {
            for scenario in catalogue { print("\(scenario.name): \(scenario.summary)") }
            return
        }
        let scenarios: [ShutdownScenario]
        if let name = scenario {
            guard let found = catalogue.first(where: { $0.name == name }) else {
                throw ValidationError(
                    "unknown scenario '\(name)'; known: \(catalogue.map(\.name).joined(separator: ", "))")
            }
            scenarios = [found]
        } else {
            scenarios = catalogue
        }
        guard iterations > 0, deadline > 0 else {
            throw ValidationError("--iterations and --deadline must be positive")
        }
        let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        var runner = ShutdownSuiteRunner()
        runner.shutdownDeadline = .milliseconds(deadline)
        print(
            """
            shutdown stress: \(scenarios.count) scenario(s) x \(iterations) iterations, seed \(seed), deadline \
            \(deadline) ms
            """
        )
        let total = iterations
        for scenario in scenarios {
            let summary = await runner.run(scenario, iterations: iterations, seed: seed, keepGoing: false) { done in
                if done % 1000 == 0 && done < total { print("  \(scenario.name): \(done)/\(total)") }
            }
            print(summary)
            if let failure = summary.failures.first {
                print(failure)
                await broker.stop()
                throw ExitCode(1)
            }
        }
        await broker.stop()
        let leaked = await Self.busThreadsAfterSettling()
        guard leaked.isEmpty else {
            print("FAILURE: bus threads still alive after every scenario: \(leaked)")
            throw ExitCode(1)
        }
        print("no bus or client event-loop threads left (checked /proc/self/task)")
        print("all scenarios passed: \(scenarios.count) x \(iterations) iterations, zero hangs")
    }

    /// The names of this process's threads that belong to a bus (`vbus-*`) or to an event-loop group
    /// an MQTT client made for itself (`NIO-ELT-*`; the clients use NIO's singleton group, whose
    /// `NIO-SGLTN-*` threads live as long as the process), waiting up to two seconds for detached
    /// threads to finish exiting.
    static func busThreadsAfterSettling() async -> [String] {
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            let busThreads = ProcessThreads.names(withPrefix: "vbus-") + ProcessThreads.names(withPrefix: "NIO-ELT-")
            if busThreads.isEmpty || ContinuousClock.now >= deadline { return busThreads }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
