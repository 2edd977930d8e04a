import ArgumentParser
import Foundation
import VirtualBus

/// `vbus-bench bus`: our bus next to raw libzmq through the same proxy (and the PyZMQ seed).
struct BenchBusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract: "Throughput publisher -> proxy -> async subscriber, ours vs c_proxy_thr.c (and the PyZMQ seed)."
    )

    @Option(help: "Messages per run (fewer for large payloads: at most 2 GB per run).") var messages = 1_000_000
    @Option(help: "Payload size in bytes of the main row.") var size = 16
    @Option(help: "Subscribers of the main row (the C anchor runs as many SUB sockets).") var subscribers = 1
    @Option(help: "Paired runs (ours and C alternately).") var runs = 5
    @Option(help: "inproc or tcp.") var transport = "inproc"
    @Option(help: "Directory of the reference programs.") var anchors = "../shared/anchors"
    @Option(
        name: .customLong("row"),
        help: "An extra row SIZExSUBSCRIBERS, e.g. 1024x1 or 16x8; repeatable (default: 64x1, 1024x1, 65536x1, 16x8).")
    var extraRows: [String] = []
    @Flag(help: "Only the main row (and the rows given with --row); no CURVE row, no PyZMQ seed.") var quick = false
    @Option(help: "Write an SVG bar chart of the results here.") var chart: String?

    func run() async throws {
        guard ["inproc", "tcp"].contains(transport) else { throw ValidationError("--transport must be inproc or tcp") }
        let extras = try (extraRows.isEmpty && !quick ? ["64x1", "1024x1", "65536x1", "16x8"] : extraRows).map(
            Self.parseRow)
        let anchor = try ExternalProgram.compileC("\(anchors)/c_proxy_thr.c", libraries: ["zmq", "pthread"])
        print(
            """
            machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; \(messages) messages of \(size) B, \
            \(subscribers) subscriber(s), \(transport), \(runs) paired runs
            """
        )
        var rows: [(label: String, result: Paired)] = []
        let main = try await paired(anchor: anchor, size: size, subscribers: subscribers, runs: runs)
        rows.append(("\(size) B x\(subscribers)", main))
        for (extraSize, extraSubscribers) in extras where (extraSize, extraSubscribers) != (size, subscribers) {
            // As many pairs as the main row: the verdict is the worst row, so no row may be noisier.
            let extra = try await paired(anchor: anchor, size: extraSize, subscribers: extraSubscribers, runs: runs)
            rows.append(("\(extraSize) B x\(extraSubscribers)", extra))
        }
        if !quick {
            if transport == "tcp" && CurveKeyPair.isCurveAvailable {
                var plain: [Double] = [], secured: [Double] = []
                for _ in 0..<max(3, runs / 2) {
                    plain.append(
                        try await BusThroughput.run(messages: messages, size: size, subscribers: 1, transport: "tcp")
                            .rate)
                    secured.append(
                        try await BusThroughput.run(
                            messages: messages, size: size, subscribers: 1, transport: "tcp", curve: true
                        ).rate)
                }
                let cost = Stats.median(secured) / Stats.median(plain)
                print(
                    """
                    CURVE over tcp: \(Stats.median(secured).rateDescription) vs plain \
                    \(Stats.median(plain).rateDescription) (\(cost.formatted(decimals: 2))x)
                    """
                )
            }
            if transport != "inproc" {
                // The seed is in-process only; comparing it with a tcp run would mislead.
            } else if let seed = try? seedRate() {
                print(
                    """
                    pyzmq seed (200000 x 16 B): \(seed.rateDescription); ours/seed: \
                    \((main.ours / seed).formatted(decimals: 1))x
                    """
                )
            } else {
                print("pyzmq seed: not run (python3 with pyzmq needed: bash scripts/setup.sh)")
            }
        }
        if let chart {
            let chartRows = rows.map { ChartRow(label: $0.label, ours: $0.result.ours, reference: $0.result.c) }
            try SVGChart(
                title: "Bus throughput (msgs/s): ours vs raw libzmq proxy", rows: chartRows, referenceName: "C libzmq"
            ).write(to: chart)
            print("chart: \(chart)")
        }
        // Every row is like for like: the anchor runs as many SUB sockets as we run subscriptions.
        let worst = rows.min { $0.result.ratio < $1.result.ratio }!
        print("ratio ours/c (worst row, \(worst.label)): \(worst.result.ratio.formatted(decimals: 2))")
    }

    /// `SIZExSUBSCRIBERS`, as in `1024x1`.
    static func parseRow(_ text: String) throws -> (Int, Int) {
        let parts = text.split(separator: "x")
        guard parts.count == 2, let size = Int(parts[0]), let count = Int(parts[1]), size >= 0, count >= 1 else {
            throw ValidationError("--row must look like SIZExSUBSCRIBERS (1024x1, 16x8), got '\(text)'")
        }
        return (size, count)
    }

    private struct Paired { let ours: Double; let c: Double; let ratio: Double }

    private func paired(anchor: String, size: Int, subscribers: Int, runs: Int) async throws -> Paired {
        // At most 2 GB of payload per run: 64 KiB rows send about 30,000 messages.
        let messages = max(1_000, min(self.messages, 2_000_000_000 / max(size, 1)))
        var ours: [Double] = [], c: [Double] = [], ratios: [Double] = []
        // CPU time per delivery of each whole process (getrusage): steadier than the rate when the
        // two cores are shared by every thread of the run.
        var oursCPU: [Double] = [], cCPU: [Double] = []
        func perDelivery(_ seconds: Double) -> Double { seconds * 1e9 / Double(messages * subscribers) }
        func runAnchor() throws -> Double {
            let childrenBefore = ProcessCPU.childrenSeconds
            let output = try ExternalProgram.run(anchor, ["\(messages)", "\(size)", transport, "\(subscribers)"])
            cCPU.append(perDelivery(ProcessCPU.childrenSeconds - childrenBefore))
            guard let rate = ExternalProgram.number(before: "msgs/s", in: output) else {
                throw BenchFailure(description: "unexpected anchor output: \(output)")
            }
            return rate
        }
        func runOurs() async throws -> BusThroughput.Result {
            let ownBefore = ProcessCPU.ownSeconds
            let result = try await BusThroughput.run(
                messages: messages, size: size, subscribers: subscribers, transport: transport)
            oursCPU.append(perDelivery(ProcessCPU.ownSeconds - ownBefore))
            guard result.received == messages else {
                throw BenchFailure(description: "ours received \(result.received) of \(messages) messages")
            }
            return result
        }
        for run in 1...runs {
            // The order alternates within pairs, so neither side always runs on a machine the other
            // has just warmed up (or heated).
            let cRate: Double, result: BusThroughput.Result
            if run.isMultiple(of: 2) {
                result = try await runOurs()
                cRate = try runAnchor()
            } else {
                cRate = try runAnchor()
                result = try await runOurs()
            }
            ours.append(result.rate); c.append(cRate); ratios.append(result.rate / cRate)
            print(
                """
                  run \(run) [\(size) B x\(subscribers)]: ours \(result.rate.rateDescription), c \
                \(cRate.rateDescription), ratio \((result.rate / cRate).formatted(decimals: 2)); CPU ns/delivery \
                ours \(oursCPU.last!.formatted(decimals: 0)), c \(cCPU.last!.formatted(decimals: 0))
                """
            )
        }
        let summary = Paired(ours: Stats.median(ours), c: Stats.median(c), ratio: Stats.median(ratios))
        let deliveries =
            subscribers > 1
            ? """
            ; deliveries/s ours \((summary.ours * Double(subscribers)).rateDescription), c \
            \((summary.c * Double(subscribers)).rateDescription)
            """
            : ""
        print(
            """
            \(size) B x\(subscribers): median ours \(summary.ours.rateDescription), median c \
            \(summary.c.rateDescription), paired median ratio \
            \(summary.ratio.formatted(decimals: 2)) (pairs \(ratios.min()!.formatted(decimals: 2)) to \
            \(ratios.max()!.formatted(decimals: 2)))\(deliveries); median CPU ns/delivery ours \
            \(Stats.median(oursCPU).formatted(decimals: 0)), c \(Stats.median(cCPU).formatted(decimals: 0))
            """
        )
        return summary
    }

    private func seedRate() throws -> Double {
        let output = try ExternalProgram.run(
            "/usr/bin/env", ["python3", "\(anchors)/seed_virtualbus.py", "thr", "200000", "16"])
        guard let rate = ExternalProgram.number(before: "msgs/s", in: output) else {
            throw BenchFailure(description: "unexpected seed output: \(output)")
        }
        return rate
    }
}
