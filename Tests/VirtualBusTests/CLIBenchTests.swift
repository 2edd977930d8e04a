import Foundation
import Testing
import TestSupport

/// `vbus-bench` and `vbus-bench stress`, each run once with tiny sizes: the table is printed, and the last
/// line is the verdict `ratio ...: X.XX`, equal to the table's worst row. Numbers are not judged
/// here (machines are noisy); the shape and the honesty of the verdict are.
@Suite(
    "vbus-bench and vbus-bench stress: short runs print their table and a verdict that is the worst row", .serialized,
    .timeLimit(.minutes(5)))
struct CLIBenchTests {
    @Test(
        """
        bench bus: one row per size and fan-out (the anchor with as many SUB sockets), the verdict is the worst \
        row's paired ratio, named
        """
    )
    func benchBus() async throws {
        let lines = try await vbusBench([
            "bus", "--messages", "2000", "--runs", "1", "--quick", "--row", "1024x1", "--row", "16x2", "--anchors",
            try Anchors.directory(),
        ])
        #expect(lines.first?.hasPrefix("machine: ") == true)
        let rows = lines.filter { $0.contains("paired median ratio ") }
        let ratios = rows.compactMap { line in Self.number(after: "paired median ratio ", in: line) }
        #expect(ratios.count == 3, "16 B x1, 1024 B x1, 16 B x2:\n\(lines.joined(separator: "\n"))")
        #expect(rows.last?.contains("deliveries/s ours") == true, "the fan-out row reports deliveries")
        // Rows that print the same lowest ratio (two decimals) may each be the worst one.
        let lowest = ratios.min()
        let worstLabels = zip(rows, ratios).filter { $0.1 == lowest }.map { String($0.0.prefix { $0 != ":" }) }
        #expect(
            worstLabels.contains { lines.last?.hasPrefix("ratio ours/c (worst row, \($0)): ") == true },
            "\(lines.last ?? "")")
        try Self.expectVerdict(lines, equalTo: lowest)
    }

    @Test("bench mqtt: one row per size and QoS next to libmosquitto, the verdict is the worst paired ratio")
    func benchMQTT() async throws {
        let lines = try await vbusBench([
            "mqtt", "--count", "300", "--runs", "1", "--qos", "0", "--qos", "1", "--size", "16",
            "--skip-latency", "--skip-python", "--anchors", try Anchors.directory(),
        ])
        // A row: size "B" qos messages ours libmosquitto paho ours/libmosq paired ...
        let rows: [[Substring]] = lines.map { $0.split(separator: " ") }.filter { row in
            row.count > 8 && row[1] == "B" && Int(row[0]) != nil
        }
        #expect(rows.map { $0[2] } == ["0", "1"])
        try Self.expectVerdict(lines, equalTo: rows.compactMap { Double($0[8]) }.min())
    }

    @Test("bench bridge: bridged next to direct for each QoS, size and direction, the verdict names the worst row")
    func benchBridge() async throws {
        let lines = try await vbusBench([
            "bridge", "--count", "300", "--runs", "1", "--outage-seconds", "0", "--restarts", "0",
            "--anchors", try Anchors.directory(), "--peers",
            Anchors.repository.appendingPathComponent("Tests/Peers").path,
        ])
        let rows = lines.filter { $0.hasPrefix("qos") }
        #expect(rows.count == 8, "2 QoS x 2 sizes x 2 directions:\n\(lines.joined(separator: "\n"))")
        let ratios = rows.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        // Rows that print the same lowest ratio (two decimals) may each be the worst one.
        let lowest = ratios.min()
        let worstLabels = zip(rows, ratios).filter { $0.1 == lowest }.map {
            String($0.0.prefix(18)).trimmingCharacters(in: .whitespaces)
        }
        #expect(worstLabels.contains { lines.last?.hasPrefix("ratio bridged/direct (worst row, \($0)): ") == true })
        try Self.expectVerdict(lines, equalTo: lowest)
    }

    @Test("bench shutdown: p50/p99 per subscriber count next to the PyZMQ seed, the verdict is the worst (slowest) row")
    func benchShutdown() async throws {
        let lines = try await vbusBench([
            "shutdown", "--runs", "3", "--seed-runs", "1", "--subscribers", "1", "--subscribers", "8", "--anchors",
            try Anchors.directory(),
        ])
        let rows = lines.map { $0.split(separator: " ") }.filter { $0.count > 1 && Int($0[0]) != nil }
        #expect(rows.map { $0[0] } == ["1", "8"])
        // A time ratio: the worst row is the largest.
        try Self.expectVerdict(lines, equalTo: rows.compactMap { $0.last.flatMap { Double($0) } }.max())
    }

    @Test("stress shutdown: every scenario runs its iterations and the run ends with a zero-hang summary")
    func stressShutdown() async throws {
        let list = try await vbusBench(["stress", "shutdown", "--list"])
        let lines = try await vbusBench(["stress", "shutdown", "--iterations", "2"])
        let reported = lines.compactMap { line in
            line.range(of: ": 2 iterations, ok in ").map { String(line[..<$0.lowerBound]) }
        }
        #expect(!list.isEmpty)
        #expect(
            Set(reported) == Set(list.map { String($0.split(separator: ":").first ?? "") }),
            "every listed scenario reports")
        #expect(lines.last == "all scenarios passed: \(reported.count) x 2 iterations, zero hangs")
    }

    /// Runs `vbus ARGUMENTS`, expecting exit status 0; its standard output lines.
    private func vbusBench(_ arguments: [String]) async throws -> [String] {
        let process = try ChildProcess.built("vbus-bench", arguments)
        let output = try await process.allLines(within: .seconds(240))
        let exit = try await process.exit()
        if exit.status != 0 {
            let transcript = try await process.transcript()
            Issue.record("vbus \(arguments.joined(separator: " ")) exited \(exit.status):\n\(transcript)")
        }
        return output
    }

    /// The last line is `ratio LABEL: X.XX`, and X.XX is `expected` to two decimals.
    private static func expectVerdict(
        _ lines: [String], equalTo expected: Double?, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let last = try #require(lines.last, sourceLocation: sourceLocation)
        let value =
            last.hasPrefix("ratio ")
            ? last.split(separator: ":").last.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } : nil
        #expect(value != nil, "the last line is not `ratio ...: X.XX`: \(last)", sourceLocation: sourceLocation)
        #expect(
            last.range(of: #": \d+\.\d\d$"#, options: .regularExpression) != nil, "two decimals: \(last)",
            sourceLocation: sourceLocation)
        let expected = try #require(expected, "no rows to compare the verdict with", sourceLocation: sourceLocation)
        #expect(
            abs((value ?? -1) - expected) < 0.006, "the verdict \(last) is not the worst row (\(expected))",
            sourceLocation: sourceLocation)
    }

    /// The number right after `prefix` in `line`.
    private static func number(after prefix: String, in line: String) -> Double? {
        guard let range = line.range(of: prefix) else { return nil }
        return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
    }
}
