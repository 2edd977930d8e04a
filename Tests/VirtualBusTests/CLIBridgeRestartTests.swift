import BrokerLauncher
import Foundation
import Testing
import TestSupport

/// `vbus bridge --out` as a user runs it (no session flags: clean start, session expiry 0) against
/// a mosquitto with persistence that is stopped (SIGTERM) and started again on the same port and
/// data directory several times mid-stream. The peers are foreign: a pyzmq publisher on the bus,
/// and paho-mqtt as the independent subscriber (persistent session) that counts every message.
///
/// At QoS 1 and 2 every message arrives; at QoS 2 none twice. Each restart is a real loss of the
/// connection with publishes in flight: QoS 1/2 publishes awaiting PUBACK or PUBREC, QoS 2 ones
/// awaiting PUBCOMP, and what the bridge accepted while the broker was down.
@Suite("vbus bridge across broker restarts, counted by paho-mqtt", .serialized, .timeLimit(.minutes(5)))
struct CLIBridgeRestartTests {
    static let cases: [(version: String, qos: Int)] = [("3.1.1", 1), ("3.1.1", 2), ("5", 1), ("5", 2)]
    /// Restarts per run; `make stress` runs more (`VBUS_RESTART_ROUNDS`).
    static let rounds = ProcessInfo.processInfo.environment["VBUS_RESTART_ROUNDS"].flatMap(Int.init) ?? 3
    /// Messages per round: half before the restart, half while the broker is down.
    static let perRound = 1_000

    @Test("every message arrives across restarts; at QoS 2 exactly once", arguments: cases)
    func restarts(version: String, qos: Int) async throws {
        let total = Self.rounds * Self.perRound
        let broker = try await PrivateBroker.started(persistence: true)
        defer { broker.stop() }
        let subscriber = try ChildProcess.peer(
            "paho_counting_subscriber.py",
            ["\(broker.port)", version, "\(qos)", "counter-\(UUID().uuidString.prefix(8))", "sensors", "\(total)"])
        _ = try await subscriber.nextLine { $0 == "subscribed" }

        let bridge = try ChildProcess.vbus([
            "bridge", "--broker", broker.url, "--out", "sensors/#", "--qos", "\(qos)", "--mqtt-version", version,
            "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
        ])
        let (frontend, _) = try await bridge.bridgeEndpoints()
        let publish = { (first: Int, end: Int, last: Bool) async throws in
            let publisher = try ChildProcess.peer(
                "pyzmq_numbered_publisher.py", [frontend, "sensors", "\(first)", "\(end)"] + (last ? ["--end"] : []))
            #expect(try await publisher.exit(within: .seconds(30)).status == 0, "the bus publisher failed")
        }
        for round in 0..<Self.rounds {
            let base = round * Self.perRound
            try await publish(base, base + Self.perRound / 2, false)
            // Restart while the first half is still flowing: the broker goes away with publishes in flight.
            let target = base + Self.perRound / 4
            _ = try await subscriber.nextLine(within: .seconds(30)) {
                Self.received(in: $0).map { $0 >= target } ?? false
            }
            broker.kill(graceful: true)
            // Accepted by the bridge while there is no broker: held in its outage buffer.
            try await publish(base + Self.perRound / 2, base + Self.perRound, round == Self.rounds - 1)
            try await broker.start()
            // Said out loud, not only counted: the loss and the return, with what was resent.
            _ = try await bridge.nextLine(.standardError, within: .seconds(30)) {
                $0.contains("lost the connection to 127.0.0.1:\(broker.port)")
            }
            let reconnected = try await bridge.nextLine(.standardError, within: .seconds(30)) {
                $0.contains("reconnected after")
            }
            #expect(reconnected.contains("session resumed"), "\(reconnected)")
        }
        let summary = try await subscriber.nextLine(within: .seconds(60)) { $0.hasPrefix("summary") }
        let duplicates = qos == 2 ? "duplicates=0 " : ""
        #expect(
            summary.contains("distinct=\(total) \(duplicates)") && summary.contains("missing=0 "), "paho: \(summary)")
        #expect(try await subscriber.exit(within: .seconds(10)).status == 0)

        bridge.terminate()
        #expect(try await bridge.exit(within: .seconds(10)).status == 0)
    }

    /// N from the subscriber's progress line `received N`.
    static func received(in line: String) -> Int? {
        line.hasPrefix("received ") ? Int(line.dropFirst("received ".count)) : nil
    }
}
