import Foundation
import Testing
import TestSupport

/// `vbus bridge --both 'chat/#'` between foreign peers on both ends (pyzmq on the bus, paho on the
/// private mosquitto, Tests/Peers/bridge_loop_peers.py): the bridge relays each message once each
/// way and sends none of its own back, although the messages carry nothing that tells where they
/// came from, and a foreign message identical to one it bridged is still relayed.
@Suite("vbus bridge --both: no loops without an in-band marker", .timeLimit(.minutes(2)))
struct CLIBridgeLoopTests {
    @Test(
        "bus <-> MQTT both ways: no echo either way, a foreign identical copy is relayed, SIGTERM exits 0",
        arguments: ["3.1.1", "5"])
    func noLoopsBothWays(mqttVersion: String) async throws {
        let bridge = try ChildProcess.vbus([
            "bridge", "--both", "chat/#", "--mqtt-version", mqttVersion, "--qos", "1",
            "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
            // Statistics every second: how the test learns that the bridge has dealt with every
            // echo (see below), which nothing the peers can see tells.
            "--stats-interval", "1",
        ])
        let started = try await bridge.nextLine(.standardError) {
            $0.contains("started a private mosquitto at mqtt://")
        }
        let port = try #require(
            started.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, "stderr: \(started)")
        let (frontend, backend) = try await bridge.bridgeEndpoints()

        let peers = try ChildProcess.peer("bridge_loop_peers.py", [frontend, backend, "\(port)", mqttVersion])
        let transcript = try await peers.transcript(within: .seconds(100))
        let peersStatus = try await peers.exit().status
        #expect(peersStatus == 0, "bridge_loop_peers.py: \(transcript)")
        let peerLines = transcript.split(separator: "\n").map(String.init)
        // Each end sees A and B once from the other end, and once directly (the bus SUB sees
        // everything published on the bus, the MQTT subscriber everything on the broker), and one
        // more B: the foreign copy, published on the bus, relayed out. An echo shows as one more
        // (MQTT B=3: the bridged-in B sent back out; bus A=2 or B=3: a broker's echo of A or of
        // the copy brought back in), a relay that takes the copy for an echo as one less (MQTT B=1).
        #expect(
            peerLines.first { $0.hasPrefix("mqtt ") } == "mqtt A=1 B=2 bus A=1 B=2",
            "bridge_loop_peers.py: \(transcript)")

        // The bridge's own account. Every message it brought in reaches its own outbound bus
        // subscription and is cancelled there; under 3.1.1 (no No Local) the broker also sends back
        // each message it sent out, cancelled too. So, once everything has come back, the loops it
        // prevented are exactly `in` (5) or `in + out` (3.1.1). The peers' lower bounds of `out`
        // and `in` make sure the line waited for comes after all the traffic above, not from a
        // quiet moment before it; then the echoes of the last messages may still be on their way,
        // hence waiting for a line where they balance rather than taking the first.
        let bounds = try #require(
            peerLines.lazy.compactMap { try? #/seen relayed-out>=(\d+) relayed-in>=(\d+)/#.wholeMatch(in: $0) }.first,
            "bridge_loop_peers.py: \(transcript)")
        let (outSeen, inSeen) = (Int(bounds.1)!, Int(bounds.2)!)
        let echoesFromBroker = mqttVersion == "3.1.1"
        let settledLine = try? await bridge.nextLine(.standardError, within: .seconds(20)) { line in
            guard let counters = RuleCounters(line) else { return false }
            // The last publish's acknowledgement, too, may still be on its way when a line prints.
            return counters.out >= outSeen && counters.in >= inSeen
                && counters.acknowledged + counters.failed == counters.out
                && counters.loopsPrevented == counters.in + (echoesFromBroker ? counters.out : 0)
        }
        guard let settledLine, let settled = RuleCounters(settledLine) else {
            bridge.terminate()
            _ = try? await bridge.exit(within: .seconds(10))
            let output = (try? await bridge.transcript()) ?? "(no output)"
            Issue.record(
                """
                no statistics line with out >= \(outSeen), in >= \(inSeen) and loops prevented = \
                in\(echoesFromBroker ? " + out" : ""): \(output)
                """
            )
            return
        }
        // Nothing lost or doubled on the way: every publish acknowledged, nothing dropped, and no
        // redelivery (a duplicate would be one more message at an end for a reason other than a loop).
        #expect(
            settled.acknowledged == settled.out && settled.failed == 0 && settled.dropped == 0
                && settled.duplicates == 0, "\(settledLine)")

        bridge.terminate()
        let stopped = try await bridge.nextLine(.standardError, within: .seconds(10)) {
            $0.hasPrefix("vbus bridge: stopped;")
        }
        #expect(try await bridge.exit(within: .seconds(10)).status == 0)
        // The exit summary is the account above: with no traffic left, shutting down changes nothing.
        #expect(RuleCounters(stopped) == settled, "settled: \(settledLine); at exit: \(stopped)")
    }

    @Test("the same filter as separate --out and --in rules: no echo either way either", arguments: ["3.1.1", "5"])
    func noLoopsWithSeparateRules(mqttVersion: String) async throws {
        // A 3.1.1 broker sends the `out` rule's publishes back to the `in` rule's subscription: the
        // echo filter must know them whichever rule carried them out (it once knew only `--both`'s).
        let bridge = try ChildProcess.vbus([
            "bridge", "--out", "chat/#", "--in", "chat/#", "--mqtt-version", mqttVersion, "--qos", "1",
            "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
        ])
        let started = try await bridge.nextLine(.standardError) {
            $0.contains("started a private mosquitto at mqtt://")
        }
        let port = try #require(
            started.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, "stderr: \(started)")
        let (frontend, backend) = try await bridge.bridgeEndpoints()
        let peers = try ChildProcess.peer("bridge_loop_peers.py", [frontend, backend, "\(port)", mqttVersion])
        let transcript = try await peers.transcript(within: .seconds(100))
        #expect(try await peers.exit().status == 0, "bridge_loop_peers.py: \(transcript)")
        #expect(
            transcript.split(separator: "\n").first { $0.hasPrefix("mqtt ") } == "mqtt A=1 B=2 bus A=1 B=2",
            "bridge_loop_peers.py: \(transcript)")
        bridge.terminate()
        #expect(try await bridge.exit(within: .seconds(10)).status == 0)
    }
}

/// The counters of a `vbus bridge`'s first (here: only) rule, read from its periodic statistics
/// line or its exit summary (`rule 1: out N (acked N, failed N), in N (retained N, duplicates N,
/// dropped N, waited on a full bus N), loops prevented N`).
private struct RuleCounters: Equatable {
    let out, acknowledged, failed: Int
    let `in`, retained, duplicates, dropped, busFullWaits: Int
    let loopsPrevented: Int

    /// `nil` for any other line.
    init?(_ line: String) {
        let pattern =
            #/rule 1: out (\d+) \(acked (\d+), failed (\d+)\), in (\d+) \(retained (\d+), duplicates (\d+), dropped (\d+), waited on a full bus (\d+)\), loops prevented (\d+)/#
        guard let match = try? pattern.firstMatch(in: line) else { return nil }
        let numbers = [match.1, match.2, match.3, match.4, match.5, match.6, match.7, match.8, match.9].compactMap {
            Int($0)
        }
        guard numbers.count == 9 else { return nil }
        (out, acknowledged, failed) = (numbers[0], numbers[1], numbers[2])
        (`in`, retained, duplicates, dropped, busFullWaits) = (
            numbers[3], numbers[4], numbers[5], numbers[6], numbers[7]
        )
        loopsPrevented = numbers[8]
    }
}
