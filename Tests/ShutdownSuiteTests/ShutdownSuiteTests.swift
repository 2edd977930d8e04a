@testable import ShutdownSuite
import Testing
import TestSupport
import VirtualBus

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Iterations per scenario: 200 in CI; `SHUTDOWN_SUITE_ITERATIONS` overrides (the sanitizer runs
/// use fewer, `make stress` uses `vbus-bench stress shutdown` with 10,000).
let iterationsPerScenario = environment("SHUTDOWN_SUITE_ITERATIONS").flatMap(Int.init) ?? 200

/// A fresh seed per run, printed with every failure; `SHUTDOWN_SUITE_SEED` replays one.
let suiteSeed = environment("SHUTDOWN_SUITE_SEED").flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64(UInt32.max))

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// Bridge iterations per scenario: 200 in CI like every other scenario (each connects MQTT
/// sessions, and `bridge-broker-lost` starts and kills a mosquitto of its own);
/// `SHUTDOWN_SUITE_BRIDGE_ITERATIONS` overrides, and a smaller `SHUTDOWN_SUITE_ITERATIONS` (the
/// sanitizer runs) lowers it too.
let bridgeIterations = environment("SHUTDOWN_SUITE_BRIDGE_ITERATIONS").flatMap(Int.init) ?? iterationsPerScenario

/// The runner for the scenario tests; `SHUTDOWN_SUITE_LATENESS_MS` widens how late a shutdown may
/// end (the sanitizer runs, where everything is several times slower).
func makeRunner() -> ShutdownSuiteRunner {
    var runner = ShutdownSuiteRunner()
    if let milliseconds = environment("SHUTDOWN_SUITE_LATENESS_MS").flatMap(Int.init) {
        runner.lateness = .milliseconds(milliseconds)
    }
    return runner
}

// One serialized suite for the bus and the bridge scenarios: run side by side they would measure
// each other's load, not shutdown.
@Suite(
    "Shutdown-correctness suite: every scenario, randomized, under the watchdog", .serialized, .timeLimit(.minutes(8)))
struct ShutdownScenarioTests {
    @Test(
        """
        the scenario shuts down in order, in time, finishing every sequence, thread and context, with every \
        message accounted for
        """,
        arguments: ShutdownScenario.all.map(\.name))
    func scenario(name: String) async throws {
        let scenario = try #require(ShutdownScenario.named(name))
        let summary = await makeRunner().run(scenario, iterations: iterationsPerScenario, seed: suiteSeed)
        print(summary)
        #expect(summary.iterations == iterationsPerScenario, "stopped at a failure")
        for failure in summary.failures { Issue.record("\(failure)") }
    }

    @Test(
        """
        the MQTT bridge (real mosquitto) stops taking bus messages, drains, disconnects and shuts the bus down in \
        time, with every message it took accounted for
        """,
        arguments: ShutdownScenario.bridgeScenarios(broker: BridgeBroker()).map(\.name))
    func bridgeScenario(name: String) async throws {
        // One mosquitto per scenario, shared by its iterations (bridge-broker-lost kills its own).
        let broker = BridgeBroker()
        let scenario = try #require(ShutdownScenario.bridgeScenarios(broker: broker).first { $0.name == name })
        // Keeps going past failures, so every failing iteration is reported (an iteration abandons
        // threads only when it hangs, which fails the test anyway).
        let summary = await makeRunner().run(scenario, iterations: bridgeIterations, seed: suiteSeed, keepGoing: true)
        await broker.stop()
        print(summary)
        #expect(summary.iterations == bridgeIterations)
        for failure in summary.failures { Issue.record("\(failure)") }
    }
}

@Suite("The suite can fail: it catches the seed's wrong shutdown order", .serialized, .timeLimit(.minutes(2)))
struct SelfTests {
    @Test(
        "with the context terminated first, the suite reports a hang in terminateContext within the watchdog time",
        arguments: ["idle", "publishers-mid-burst", "slow-consumer", "shutdown-from-handler"])
    func wrongOrderIsReported(name: String) async throws {
        var runner = ShutdownSuiteRunner()
        runner.shutdownOrder = .terminateContextFirst
        runner.shutdownDeadline = .milliseconds(300)
        runner.grace = .seconds(1)
        let scenario = try #require(ShutdownScenario.named(name))
        for seed in suiteSeed..<suiteSeed + 3 {
            let result = await runner.runIteration(scenario, seed: seed)
            let failure = try #require(result.failure, "the wrong order went unnoticed (seed \(seed))")
            #expect(failure.blockedPhase == .terminateContext, "\(failure)")
            #expect(failure.isHang)
            let reportedAfter = try #require(failure.reportedAfter)
            // Generous on purpose: a loaded CI machine wakes the watchdog late. What matters is that
            // the hang is reported at all, long before the test's own time limit.
            #expect(reportedAfter <= runner.shutdownDeadline + runner.grace + .seconds(5), "\(failure)")
            #expect(failure.description.contains("scenario \(name), seed \(seed), blocked phase terminateContext"))
            #expect(failure.description.contains("--scenario \(name) --seed \(seed) --iterations 1"))
        }
    }

    @Test("the same scenarios pass with the ordered shutdown (the self-test's control)")
    func orderedControl() async throws {
        let result = await ShutdownSuiteRunner().runIteration(.idle, seed: suiteSeed)
        #expect(result.failure == nil, "\(result.failure.map(String.init(describing:)) ?? "")")
    }

    @Test("a scenario that never shuts the bus down is reported")
    func missingShutdownIsReported() async throws {
        let forgetful = ShutdownScenario(name: "forgets-shutdown", summary: "never calls shutdown") { h in
            h.consume(try await h.subscribe(to: [""]))
        }
        var runner = ShutdownSuiteRunner()
        runner.grace = .milliseconds(300)
        let result = await runner.runIteration(forgetful, seed: 1)
        let failure = try #require(result.failure)
        #expect(failure.problems.contains { $0.contains("no shutdown call returned") }, "\(failure)")
    }

    @Test("messages confirmed before shutdown that vanish are reported as unaccounted")
    func lostMessagesAreReported() async throws {
        // Claims one more confirmed message than exists: the accounting check must notice.
        let overclaiming = ShutdownScenario(name: "overclaims", summary: "confirms a message nobody published") { h in
            let subscription = try await h.subscribe(to: ["t/"])
            h.consume(subscription)
            await h.barrier()
            subscription.confirmed += 1
            await h.shutdown()
        }
        let result = await ShutdownSuiteRunner().runIteration(overclaiming, seed: 1)
        let failure = try #require(result.failure)
        #expect(failure.problems.contains { $0.contains("neither delivered nor counted dropped") }, "\(failure)")
    }
}

@Suite("Suite building blocks")
struct BuildingBlockTests {
    @Test("SplitMix64 replays the same sequence for a seed (reference value for seed 0)")
    func splitMixIsReproducible() {
        var first = SplitMix64(seed: 0), second = SplitMix64(seed: 0)
        #expect(first.next() == 0xE220_A839_7B1D_CDAF)
        #expect(second.next() == 0xE220_A839_7B1D_CDAF)
        #expect((0..<100).map { _ in first.next() } == (0..<100).map { _ in second.next() })
        var child1 = first.split(), child2 = second.split()
        #expect(child1.next() == child2.next())
    }

    @Test("tracked payloads round-trip publisher index and sequence")
    func payloadRoundTrip() {
        let payload = TrackedPublisher.payload(index: 3, sequence: 123_456_789)
        #expect(TrackedPublisher.decode(payload)! == (3, 123_456_789))
        #expect(TrackedPublisher.decode([1, 2, 3]) == nil)
    }

    @Test("every built-in scenario has a unique name, and at least the issue's twelve exist")
    func scenarioNames() {
        let names = ShutdownScenario.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.count >= 13)
        let bridge = ShutdownScenario.bridgeScenarios(broker: BridgeBroker()).map(\.name)
        #expect(Set(names + bridge).count == names.count + bridge.count)
        #expect(bridge.count >= 4)
    }
}
