import ArgumentParser
import Foundation
import VirtualBus

/// `vbus-bench shutdown`: time `bus.shutdown()` with K idle subscribers, next to the PyZMQ seed.
struct BenchShutdownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shutdown",
        abstract: "Shutdown time with 1, 8 and 64 idle subscribers (p50/p99), ours vs seed_virtualbus.py shutdown K."
    )

    @Option(help: "Runs of ours per subscriber count (p50/p99 over these).") var runs = 100
    @Option(help: "Runs of the PyZMQ seed per subscriber count (each is a python3 process, ~0.5 s).") var seedRuns = 10
    @Option(parsing: .upToNextOption, help: "Subscriber counts.") var subscribers: [Int] = [1, 8, 64]
    @Option(help: "Directory of the reference programs.") var anchors = "../shared/anchors"

    func run() async throws {
        guard runs > 0, seedRuns > 0, !subscribers.isEmpty else {
            throw ValidationError("--runs, --seed-runs and --subscribers must be positive")
        }
        let script = "\(anchors)/seed_virtualbus.py"
        guard FileManager.default.fileExists(atPath: script) else {
            throw BenchFailure(
                description: "seed not found: \(script) (run from the repository root, or pass --anchors DIR)")
        }
        print(
            """
            machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; idle bus, K subscribers each with a \
            consumer task waiting in for-await
            """
        )
        print("K    ours p50    ours p99    seed p50    seed p99    p50 ours/seed")
        var worst = 0.0
        for count in subscribers {
            var ours: [Double] = []
            for _ in 0..<runs { ours.append(try await Self.shutdownMilliseconds(subscribers: count)) }
            var seed: [Double] = []
            for _ in 0..<seedRuns {
                let output = try ExternalProgram.run("/usr/bin/env", ["python3", script, "shutdown", "\(count)"])
                guard let value = ExternalProgram.number(before: "ms", in: output) else {
                    throw BenchFailure(
                        description: "unexpected seed output: \(output) (pyzmq missing? bash scripts/setup.sh)")
                }
                seed.append(value)
            }
            let ratio = Stats.median(ours) / Stats.median(seed)
            worst = max(worst, ratio)
            print(
                [
                    "\(count)".padding(toLength: 5, withPad: " ", startingAt: 0),
                    Self.column(Stats.median(ours)), Self.column(Stats.percentile(ours, 0.99)),
                    Self.column(Stats.median(seed)), Self.column(Stats.percentile(seed, 0.99)),
                    ratio.formatted(decimals: 3),
                ].joined())
        }
        print("ours: \(runs) runs per K; seed: \(seedRuns) runs per K (python3 \(script) shutdown K)")
        print("ratio ours/seed: \(worst.formatted(decimals: 2))")
    }

    /// Builds a bus with `subscribers` idle consumers, then times one `shutdown()`.
    static func shutdownMilliseconds(subscribers: Int) async throws -> Double {
        let bus = try VirtualBus()
        var consumers: [Task<Void, Never>] = []
        for _ in 0..<subscribers {
            let subscription = try await bus.subscribe(to: ["bench/"])
            consumers.append(Task { for await _ in subscription {} })
        }
        let start = ContinuousClock.now
        let report = await bus.shutdown()
        let elapsed = ContinuousClock.now - start
        guard report.isComplete else { throw BenchFailure(description: "shutdown incomplete: \(report)") }
        for consumer in consumers { await consumer.value }
        let (seconds, attoseconds) = elapsed.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    private static func column(_ milliseconds: Double) -> String {
        "\(milliseconds.formatted(decimals: 2)) ms".padding(toLength: 12, withPad: " ", startingAt: 0)
    }
}
