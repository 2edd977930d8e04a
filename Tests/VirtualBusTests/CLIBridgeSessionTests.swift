import BrokerLauncher
import Foundation
import Testing
import TestSupport

/// `--session-expiry` with a fixed `--client-id`: what the broker queued for the bridge while it was
/// stopped reaches the next `vbus bridge` with that id. The messages come from mosquitto_pub.
@Suite("vbus bridge --session-expiry across a bridge restart", .timeLimit(.minutes(2)))
struct CLIBridgeSessionTests {
    @Test(
        "messages published while the bridge is stopped are relayed by the next one with the same --client-id",
        arguments: ["3.1.1", "5"])
    func queuedWhileStopped(mqttVersion: String) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let arguments = [
            "bridge", "--broker", broker.url, "--in", "cmd/#", "--qos", "1", "--mqtt-version", mqttVersion,
            "--client-id", "gw-\(UUID().uuidString.prefix(8))", "--session-expiry", "60", "--stats-interval", "1",
        ]
        let first = try ChildProcess.vbus(arguments)
        // The first bridge's subscription is in place once a message has come through it: a
        // retained probe reaches it whenever it subscribes; then the probe is deleted (relayed too),
        // so the next bridge's count is only what was queued for it.
        for (message, relayed) in [("p", 1), ("", 2)] {
            let probe = try ChildProcess(
                "/usr/bin/mosquitto_pub",
                ["-h", "127.0.0.1", "-p", "\(broker.port)", "-t", "cmd/probe", "-m", message, "-r", "-q", "1"])
            #expect(try await probe.exit().status == 0)
            _ = try await first.nextLine(.standardError) { $0.contains("rule 1:") && $0.contains(", in \(relayed) (") }
        }
        first.terminate()
        #expect(try await first.exit(within: .seconds(10)).status == 0)

        // Nobody is subscribed now but the stopped bridge's session: the broker keeps these for it.
        let queued = try ChildProcess(
            "/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(broker.port)", "-t", "cmd/fan", "-l", "-q", "1"],
            standardInput: "1\n2\n3\n")
        #expect(try await queued.exit().status == 0)

        let second = try ChildProcess.vbus(arguments)
        let resumed = try await second.nextLine(.standardError) { $0.contains("connected to") }
        #expect(resumed.contains("127.0.0.1:\(broker.port)"))
        // All three reach the bus (counted `in` once the bus accepted them, then acknowledged).
        _ = try await second.nextLine(.standardError) { $0.contains("rule 1:") && $0.contains(", in 3 (") }
        second.terminate()
        #expect(try await second.exit(within: .seconds(10)).status == 0)
    }
}
