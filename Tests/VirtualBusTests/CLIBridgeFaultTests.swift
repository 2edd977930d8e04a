import BrokerLauncher
import Foundation
import Testing
import TestSupport

/// Faults `vbus bridge` must say on the terminal, not only count: no broker at all, and an outage
/// buffer that overflows while the broker is away.
@Suite("vbus bridge says its faults out loud", .timeLimit(.minutes(2)))
struct CLIBridgeFaultTests {
    @Test("no broker listening: one line per failed attempt, naming the address, the reason and the next try")
    func noBroker() async throws {
        let nobody = try RefusingPort()
        defer { nobody.release() }
        let port = nobody.port
        let bridge = try ChildProcess.vbus(["bridge", "--broker", "mqtt://127.0.0.1:\(port)", "--out", "sensors/#"])
        let line = try await bridge.nextLine(.standardError, within: .seconds(5)) { $0.contains("cannot connect") }
        #expect(
            line.hasPrefix("vbus bridge: cannot connect to 127.0.0.1:\(port): connection refused; retrying in "),
            "\(line)")
        #expect(line.hasSuffix(" s") || line.contains(" s ("), "\(line)")
        bridge.terminate()
        _ = try await bridge.exit(within: .seconds(10))
    }

    @Test(
        """
        a full outage buffer that drops warns once at the first drop, naming the flags, and the exit summary \
        counts the drops
        """,
        arguments: ["drop-oldest", "drop-newest"])
    func outageBufferOverflow(policy: String) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        // 50 while the broker is away: 10 fit, each of the other 40 pushes one out (the oldest or itself).
        let bridge = try await bridgeWithBrokerAway(broker, policy: policy, sending: 50)
        let warning = try await bridge.nextLine(.standardError) { $0.contains("warning:") }
        let dropping = policy == "drop-oldest" ? "dropping the oldest messages" : "dropping new messages"
        #expect(
            warning.contains("the outage buffer is full (10 messages) and is \(dropping)")
                && warning.contains("--buffer-policy wait"), "\(warning)")
        bridge.terminate()
        let summary = try await bridge.nextLine(.standardError) { $0.contains("dropped from the full outage buffer") }
        #expect(
            summary.contains("warning: 40 message(s) dropped") && summary.contains("--buffer-policy \(policy)"),
            "\(summary)")
        // Every message taken from the bus has one outcome: 40 dropped, the 10 held failed at shutdown.
        let stopped = try await bridge.nextLine(.standardError) { $0.hasPrefix("vbus bridge: stopped;") }
        #expect(stopped.contains("out 50 (acked 0, failed 50)"), "\(stopped)")
        #expect(try await bridge.exit(within: .seconds(10)).status == 0)
    }

    @Test("--buffer-policy wait: nothing dropped, no warning; all of it goes out when the broker is back")
    func outageBufferWaits() async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let bridge = try await bridgeWithBrokerAway(
            broker, policy: "wait", sending: 50, extra: ["--stats-interval", "1"])
        try await broker.start()
        // The relay held the bus meanwhile; once the broker is back all 50 are acknowledged.
        _ = try await bridge.nextLine(.standardError, within: .seconds(30)) {
            $0.contains("out 50 (acked 50, failed 0)")
        }
        bridge.terminate()
        let transcript = try await bridge.transcript()
        #expect(!transcript.contains("warning:"), "\(transcript)")
        #expect(try await bridge.exit(within: .seconds(10)).status == 0)
    }

    /// `vbus bridge --out sensors/# --buffer 10 --buffer-policy POLICY` connected to `broker`, which
    /// is then killed; a pyzmq publisher sends `count` numbered messages while it is away.
    private func bridgeWithBrokerAway(_ broker: PrivateBroker, policy: String, sending count: Int, extra: [String] = [])
        async throws -> ChildProcess
    {
        let bridge = try ChildProcess.vbus(
            [
                "bridge", "--broker", broker.url, "--out", "sensors/#", "--qos", "1", "--buffer", "10",
                "--buffer-policy", policy,
                "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
            ] + extra)
        let (frontend, _) = try await bridge.bridgeEndpoints()
        _ = try await bridge.nextLine(.standardError) { $0.contains("connected to 127.0.0.1:\(broker.port)") }
        broker.kill()
        _ = try await bridge.nextLine(.standardError) { $0.contains("lost the connection") }
        let publisher = try ChildProcess.peer("pyzmq_numbered_publisher.py", [frontend, "sensors", "0", "\(count)"])
        #expect(try await publisher.exit(within: .seconds(30)).status == 0)
        return bridge
    }
}
