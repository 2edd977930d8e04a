import ArgumentParser
import Foundation
import VirtualBus

/// `vbus-bench bus`: our bus next to raw libzmq through the same proxy (and the PyZMQ seed).
struct BenchBusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract: "Throughput publisher -> proxy -> async subscriber, ours vs c_proxy_thr.c (and the PyZMQ seed)."
    )

    @Option(help: "Messages per run.") var messages = 1_000_000
    @Option(help: "Payload size in bytes.") var size = 16
    @Option(help: "Subscribers (ours only; the C anchor has one).") var subscribers = 1
    @Option(help: "Paired runs (ours and C alternately).") var runs = 5
    @Option(help: "inproc or tcp.") var transport = "inproc"
    @Option(help: "Directory of the reference programs.") var anchors = "../shared/anchors"
    @Flag(help: "Skip the extra rows (64 B, 1 KiB, 8 subscribers, CURVE) and the PyZMQ seed.") var quick = false
    @Option(help: "Write an SVG bar chart of the results here.") var chart: String?

    func run() async throws {
        guard ["inproc", "tcp"].contains(transport) else { throw ValidationError("--transport must be inproc or tcp") }
        let anchor = try ExternalProgram.compileC("\(anchors)/c_proxy_thr.c", libraries: ["zmq", "pthread"])
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; \(messages) messages of \(size) B, \(subscribers) subscriber(s), \(transport), \(runs) paired runs")
        var rows: [ChartRow] = []
        let main = try await paired(anchor: anchor, size: size, subscribers: subscribers, runs: runs)
        rows.append(ChartRow(label: "\(size) B", ours: main.ours, reference: main.c))
        if !quick {
            for (extraSize, extraSubscribers) in [(64, 1), (1024, 1), (size, 8)] where (extraSize, extraSubscribers) != (size, subscribers) {
                let extra = try await paired(anchor: anchor, size: extraSize, subscribers: extraSubscribers, runs: max(3, runs / 2))
                rows.append(ChartRow(label: "\(extraSize) B x\(extraSubscribers)", ours: extra.ours, reference: extra.c))
            }
            if transport == "tcp" && CurveKeyPair.isCurveAvailable {
                var plain: [Double] = [], secured: [Double] = []
                for _ in 0..<max(3, runs / 2) {
                    plain.append(try await BusThroughput.run(messages: messages, size: size, subscribers: 1, transport: "tcp").rate)
                    secured.append(try await BusThroughput.run(messages: messages, size: size, subscribers: 1, transport: "tcp", curve: true).rate)
                }
                let cost = Stats.median(secured) / Stats.median(plain)
                print("CURVE over tcp: \(Stats.median(secured).rateDescription) vs plain \(Stats.median(plain).rateDescription) (\(cost.formatted(decimals: 2))x)")
            }
            if transport != "inproc" {
                // The seed is in-process only; comparing it with a tcp run would mislead.
            } else if let seed = try? seedRate() {
                print("pyzmq seed (200000 x 16 B): \(seed.rateDescription); ours/seed: \((main.ours / seed).formatted(decimals: 1))x")
            } else {
                print("pyzmq seed: not run (python3 with pyzmq needed: bash scripts/setup.sh)")
            }
        }
        if let chart {
            try SVGChart(title: "Bus throughput (msgs/s): ours vs raw libzmq proxy", rows: rows, referenceName: "C libzmq").write(to: chart)
            print("chart: \(chart)")
        }
        print("ratio ours/c: \(main.ratio.formatted(decimals: 2))")
    }

    private struct Paired { let ours: Double; let c: Double; let ratio: Double }

    private func paired(anchor: String, size: Int, subscribers: Int, runs: Int) async throws -> Paired {
        var ours: [Double] = [], c: [Double] = [], ratios: [Double] = []
        // CPU time per message of each whole process (getrusage): steadier than the rate when the
        // two cores are shared by every thread of the run.
        var oursCPU: [Double] = [], cCPU: [Double] = []
        func perMessage(_ seconds: Double) -> Double { seconds * 1e9 / Double(messages) }
        for run in 1...runs {
            let childrenBefore = ProcessCPU.childrenSeconds
            let output = try ExternalProgram.run(anchor, ["\(messages)", "\(size)", transport])
            cCPU.append(perMessage(ProcessCPU.childrenSeconds - childrenBefore))
            guard let cRate = ExternalProgram.number(before: "msgs/s", in: output) else {
                throw BenchFailure(description: "unexpected anchor output: \(output)")
            }
            let ownBefore = ProcessCPU.ownSeconds
            let result = try await BusThroughput.run(messages: messages, size: size, subscribers: subscribers, transport: transport)
            oursCPU.append(perMessage(ProcessCPU.ownSeconds - ownBefore))
            guard result.received == messages else {
                throw BenchFailure(description: "ours received \(result.received) of \(messages) messages")
            }
            ours.append(result.rate); c.append(cRate); ratios.append(result.rate / cRate)
            print("  run \(run) [\(size) B x\(subscribers)]: ours \(result.rate.rateDescription), c \(cRate.rateDescription), ratio \((result.rate / cRate).formatted(decimals: 2)); CPU ns/msg ours \(oursCPU.last!.formatted(decimals: 0)), c \(cCPU.last!.formatted(decimals: 0))")
        }
        let summary = Paired(ours: Stats.median(ours), c: Stats.median(c), ratio: Stats.median(ratios))
        print("\(size) B x\(subscribers): median ours \(summary.ours.rateDescription), median c \(summary.c.rateDescription), paired median ratio \(summary.ratio.formatted(decimals: 2)); median CPU ns/msg ours \(Stats.median(oursCPU).formatted(decimals: 0)), c \(Stats.median(cCPU).formatted(decimals: 0))")
        return summary
    }

    private func seedRate() throws -> Double {
        let output = try ExternalProgram.run("/usr/bin/env", ["python3", "\(anchors)/seed_virtualbus.py", "thr", "200000", "16"])
        guard let rate = ExternalProgram.number(before: "msgs/s", in: output) else {
            throw BenchFailure(description: "unexpected seed output: \(output)")
        }
        return rate
    }
}
