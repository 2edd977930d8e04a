import BrokerLauncher
import Testing
import VirtualBusMQTT

extension BrokerInteropTests {
    @Test(
        """
        MQTTClient tries alternateEndpoints in order, stays where it connected, and moves on when that broker \
        goes; QoS 1 publishes made meanwhile all complete
        """,
        .timeLimit(.minutes(2)))
    func alternateEndpoints() async throws {
        let first = try await PrivateBroker.started(timeout: .seconds(30))
        let second = try await PrivateBroker.started(timeout: .seconds(30))
        defer {
            first.stop()
            second.stop()
        }
        let nobody = try RefusingPort()
        defer { nobody.release() }
        var configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: nobody.port, version: .v3_1_1,
            clientID: "endpoints-\(UInt32.random(in: 0...UInt32.max))")
        configuration.alternateEndpoints = [
            MQTTBrokerEndpoint(host: "127.0.0.1", port: first.port),
            MQTTBrokerEndpoint(host: "127.0.0.1", port: second.port),
        ]
        configuration.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
        let client = MQTTClient(configuration: configuration)
        let running = Task { try await client.run() }
        defer {
            client.shutdown()
            running.cancel()
        }
        try await client.waitUntilConnected()
        #expect(client.currentEndpoint.port == first.port, "the unreachable first endpoint is skipped, the second used")

        // The broker in use goes away with publishes on their way: the client moves to the third.
        first.stop()
        var tickets: [MQTTPublishTicket] = []
        for index in 0..<100 {
            tickets.append(try client.tryPublish(topic: "endpoints/t", payload: [UInt8(index)], qos: .atLeastOnce))
        }
        for ticket in tickets { _ = try await ticket.result() }
        #expect(client.currentEndpoint.port == second.port)
        #expect(client.statistics.publishesAcknowledged == 100)
    }
}
