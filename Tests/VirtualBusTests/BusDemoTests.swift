import BrokerLauncher
import Foundation
import Testing
import TestSupport

/// `Examples/BusDemo`, the README's first command, run for a few seconds, with mosquitto_sub as
/// the stranger on the broker counting what the demo's bridge says it sent and received.
@Suite("Examples/BusDemo runs, bridges to MQTT, and shuts down in order", .serialized, .timeLimit(.minutes(2)))
struct BusDemoTests {
    @Test(
        """
        without --broker: starts a private mosquitto, relays readings, prints a complete shutdown report, leaves \
        no broker behind
        """
    )
    func privateBroker() async throws {
        let lines = try await runDemo(["--seconds", "2"])
        let started = try #require(
            lines.first { $0.hasPrefix("demo: started a private mosquitto at mqtt://127.0.0.1:") })
        let port = try #require(Int(started.split(separator: ":").last ?? ""))
        #expect(lines.contains("demo: running for 2 s, broker 127.0.0.1:\(port)"))
        let bridge = try #require(BridgeLine(lines))
        #expect(bridge.out > 0 && bridge.acked == bridge.out, "every reading sent out is acknowledged: \(bridge)")
        #expect(
            lines.last?.hasPrefix("demo: shutdown complete in ") == true,
            "the report is the last line: \(lines.suffix(3))")
        #expect(lines.last?.contains("discarded=0 dropped=0") == true)
        // The private broker went with the demo: nothing listens on its port any more.
        let probe = try ChildProcess(
            "/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(port)", "-t", "x", "-m", "y"])
        #expect(try await probe.exit().status != 0, "mosquitto still listens on \(port) after the demo exited")
    }

    @Test("with --broker: mosquitto_sub sees exactly the readings the bridge acknowledged and the commands the fan got")
    func givenBroker() async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        // -d prints the SUBACK (line-buffered by stdbuf): the subscription is in place before the
        // demo publishes anything.
        let observer = try ChildProcess(
            "/usr/bin/stdbuf",
            [
                "-oL", "/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", "\(broker.port)", "-t", "demo/#", "-v", "-q",
                "1", "-d",
            ])
        _ = try await observer.nextLine { $0.contains("SUBACK") }

        let lines = try await runDemo(["--seconds", "4", "--broker", "127.0.0.1:\(broker.port)"])
        #expect(!lines.contains { $0.contains("private mosquitto") })
        // The broker delivers to one subscriber in the order it accepted: once the marker arrives,
        // every acknowledged reading has.
        let marker = try ChildProcess(
            "/usr/bin/mosquitto_pub",
            ["-h", "127.0.0.1", "-p", "\(broker.port)", "-t", "demo/end", "-m", "", "-q", "1"])
        #expect(try await marker.exit().status == 0)
        try await observer.nextLine(within: .seconds(20)) { $0.hasPrefix("demo/end") }
        observer.terminate()
        let seen = observer.linesSoFar.prefix { !$0.hasPrefix("demo/end") }.filter { $0.hasPrefix("demo/") }

        let bridge = try #require(BridgeLine(lines))
        let readings = seen.filter { $0.hasPrefix("demo/sensors/") }
        let commands = seen.filter { $0.hasPrefix("demo/cmd/fan ") }
        #expect(bridge.acked == bridge.out)
        #expect(
            readings.count == bridge.out, "the bridge acknowledged \(bridge.out), mosquitto_sub saw \(readings.count)")
        #expect(bridge.in >= 1, "4 s of readings cross the controller's threshold: \(lines)")
        #expect(
            commands.count == bridge.in,
            "the cloud sent \(commands.count) commands, the bridge brought \(bridge.in) onto the bus")
        #expect(
            lines.filter { $0.hasPrefix("fan: switched ") }.count == bridge.in,
            "every command brought onto the bus reached the fan")
        #expect(lines.last?.hasPrefix("demo: shutdown complete in ") == true)
    }

    /// Runs the demo to its end; its output lines (it must exit 0).
    private func runDemo(_ arguments: [String]) async throws -> [String] {
        let demo = try ChildProcess.built("BusDemo", arguments)
        let lines = try await demo.allLines(within: .seconds(60))
        let status = try await demo.exit().status
        if status != 0 {
            let transcript = try await demo.transcript()
            Issue.record("BusDemo exited \(status): \(transcript.suffix(2000))")
        }
        return lines
    }

    /// `demo: bridge out N acked N, in 0; out 0 acked 0, in M`: rule 0 is the out rule, rule 1 the in rule.
    private struct BridgeLine: CustomStringConvertible {
        let out: Int, acked: Int, `in`: Int
        init?(_ lines: [String]) {
            guard let line = lines.first(where: { $0.hasPrefix("demo: bridge ") }) else { return nil }
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard numbers.count == 6 else { return nil }
            (out, acked, self.in) = (numbers[0], numbers[1], numbers[5])
        }
        var description: String { "out \(out) acked \(acked), in \(self.in)" }
    }
}
