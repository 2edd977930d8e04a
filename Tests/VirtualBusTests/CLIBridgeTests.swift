import Foundation
import Testing
import TestSupport

/// `vbus bridge` as a separate process with foreign peers on both ends: pyzmq on the bus side,
/// mosquitto_pub / mosquitto_sub on the MQTT side, and the private mosquitto the bridge starts
/// itself when no broker is given.
@Suite("vbus bridge with pyzmq and mosquitto clients", .timeLimit(.minutes(2)))
struct CLIBridgeTests {
    @Test("out to mosquitto_sub, in from mosquitto_pub (retained) to a pyzmq SUB, private broker, SIGTERM exits 0")
    func bridgeBetweenForeignPeers() async throws {
        let bridge = try ChildProcess.vbus([
            "bridge", "--out", "sensors/#=site/", "--in", "cmd/#", "--qos", "1",
            "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
        ])
        let started = try await bridge.nextLine(.standardError) {
            $0.contains("started a private mosquitto at mqtt://")
        }
        let port = try #require(started.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        let (frontend, backend) = try await bridge.bridgeEndpoints()

        // Bus -> MQTT: a pyzmq PUB on the bridge's frontend, mosquitto_sub on the private broker.
        let mqttSubscriber = try ChildProcess(
            "/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(port)", "-t", "site/#", "-C", "1", "-v", "-q", "1"])
        let busPublisher = try ChildProcess.busPublisher(frontend, topic: "sensors/t", payload: "21.5")
        #expect(try await mqttSubscriber.nextLine { $0.hasPrefix("site/") } == "site/sensors/t 21.5")
        busPublisher.terminate()

        // MQTT -> bus: a retained command reaches a pyzmq SUB on the bridge's backend, whenever
        // the bridge's subscription comes (the broker keeps it; the bridge's cache replays it).
        let busSubscriber = try ChildProcess.busSubscriber(backend, prefix: "cmd/")
        let mqttPublisher = try ChildProcess(
            "/usr/bin/mosquitto_pub",
            ["-h", "127.0.0.1", "-p", "\(port)", "-t", "cmd/fan", "-m", "on", "-r", "-q", "1"])
        #expect(try await mqttPublisher.exit().status == 0)
        // Exactly two frames, exactly the MQTT topic and payload, as for any peer.
        #expect(try await busSubscriber.nextLine { _ in true } == "b'cmd/fan' b'on'")

        bridge.terminate()
        #expect(try await bridge.exit(within: .seconds(10)).status == 0)
    }
}
