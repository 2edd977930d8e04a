import BrokerLauncher
import Testing
import TestSupport

extension BrokerInteropTests {
    /// The brokers of 3.1.1 alone, each refusing MQTT 5.0 its own way: NATS with a 3.1.1 CONNACK
    /// (return code 1), RabbitMQ by closing the connection, amqtt by never answering.
    static let olderBrokers: [InteropBroker] = [.nats, .rabbitmq, .amqtt]

    @Test(
        """
        vbus bridge --mqtt-version 5 against a 3.1.1-only broker ends with an error naming the version, never \
        hangs; auto falls back to 3.1.1 and says so
        """,
        .timeLimit(.minutes(5)), arguments: olderBrokers)
    func versionFallback(broker: InteropBroker) async throws {
        let (port, stop) = try await broker.start()
        defer { stop() }
        let url = "mqtt://127.0.0.1:\(port)"

        let five = try ChildProcess.vbus(["bridge", "--broker", url, "--mqtt-version", "5", "--out", "sensors/#"])
        // amqtt lets the CONNECT time out (10 s) rather than refuse it.
        let status = try await five.exit(within: .seconds(40)).status
        #expect(status != 0, "\(broker.title): vbus bridge --mqtt-version 5 exited 0: \(five.linesSoFar)")
        let said = five.linesSoFar.joined(separator: "\n")
        // amqtt never answers: the bridge's first-connection deadline ends it, with the reason
        // of the attempt that timed out, which names the version too.
        #expect(said.contains("MQTT 5.0") && said.contains("3.1.1"), "\(broker.title): \(said)")

        let auto = try ChildProcess.vbus(["bridge", "--broker", url, "--mqtt-version", "auto", "--out", "sensors/#"])
        defer { auto.terminate() }
        let fallback = try await auto.firstLine(within: .seconds(40)) { $0.contains("does not speak MQTT 5.0") }
        #expect(fallback.contains("using MQTT 3.1.1"), "\(fallback)")
        try await auto.firstLine { $0.hasPrefix("vbus bridge: 127.0.0.1:\(port) mqtt 3.1.1,") }
        try await auto.firstLine { $0.contains("connected to 127.0.0.1:\(port)") }
        auto.terminate()
        #expect(try await auto.exit().status == 0, "\(auto.linesSoFar)")
    }

    @Test("vbus bridge --mqtt-version auto keeps MQTT 5.0 with a broker that speaks it")
    func versionAutoKeepsFive() async throws {
        let broker = try await PrivateBroker.started(timeout: .seconds(30))
        defer { broker.stop() }
        let auto = try ChildProcess.vbus([
            "bridge", "--broker", broker.url, "--mqtt-version", "auto", "--out", "sensors/#",
        ])
        defer { auto.terminate() }
        try await auto.firstLine { $0.contains("connected to 127.0.0.1:\(broker.port)") }
        #expect(
            auto.linesSoFar.contains { $0.hasPrefix("vbus bridge: 127.0.0.1:\(broker.port) mqtt 5,") },
            "\(auto.linesSoFar)")
        #expect(!auto.linesSoFar.contains { $0.contains("does not speak") })
        auto.terminate()
        #expect(try await auto.exit().status == 0, "\(auto.linesSoFar)")
    }
}
