import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

@Suite("Keep-alive against mosquitto", .timeLimit(.minutes(1)))
struct KeepAliveTests {
    @Test("idle connection: PINGREQ/PINGRESP keep it alive", arguments: bothVersions)
    func pings(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            var config = testConfiguration(broker, version, "ka")
            config.keepAlive = .seconds(1)
            try await MQTTClient.withConnection(configuration: config) { client in
                do {
                    try await waitUntil("two PINGRESPs", within: .seconds(10)) {
                        client.core.state.withLock { $0.machine.pingResponses >= 2 }
                    }
                } catch {
                    let (responses, state) = client.core.state.withLock { ($0.machine.pingResponses, $0.machine.state) }
                    Issue.record(
                        """
                        \(responses) PINGRESPs, connection \(state), close error \
                        \(String(describing: client.core.state.withLock { $0.closeError }))
                        """
                    )
                    throw error
                }
                #expect(client.statistics.isConnected)
            }
        }
    }

    @Test(
        "a frozen broker (SIGSTOP) is detected as dead: keepAliveTimeout, pending publish fails",
        arguments: bothVersions)
    func deadBroker(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            var config = testConfiguration(broker, version, "ka-dead")
            config.keepAlive = .seconds(1)
            config.pingTimeout = .milliseconds(500)
            let client = MQTTClient(configuration: config)
            let task = try await startClient(client)
            broker.freeze(true)
            defer { broker.freeze(false) }
            let ticket = try client.tryPublish(topic: "ka/t", payload: [1], qos: .atLeastOnce)
            let error = await #expect(throws: MQTTError.self) {
                try await withDeadline(.seconds(10), "dead broker detection") { try await task.value }
            }
            #expect(error?.code == .keepAliveTimeout)
            await #expect(throws: MQTTError.self) { try await ticket.result() }
        }
    }
}
