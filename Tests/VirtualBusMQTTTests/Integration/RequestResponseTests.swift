import BrokerLauncher
import Testing
@testable import VirtualBusMQTT

@Suite("Request/response (MQTT 5)", .timeLimit(.minutes(1)))
struct RequestResponseTests {
    @Test("a request without a responder times out; its bookkeeping is released")
    func timeout() async throws {
        try await PrivateBroker.with { broker in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, .v5, "rr-timeout")) { client in
                let error = await #expect(throws: MQTTError.self) {
                    try await client.request(topic: "rr/nobody", payload: [1], timeout: .milliseconds(200))
                }
                #expect(error?.code == .timeout)
                #expect(client.statistics.pendingRequests == 0)
            }
        }
    }

    @Test("request on MQTT 3.1.1 is unsupported (no response topic / correlation data)")
    func v3() async throws {
        try await PrivateBroker.with { broker in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, .v3_1_1, "rr-v3")) { client in
                let error = await #expect(throws: MQTTError.self) {
                    try await client.request(topic: "rr/x", payload: [])
                }
                #expect(error?.code == .unsupported)
            }
        }
    }

    @Test("user properties and correlation data survive the round trip")
    func properties() async throws {
        try await PrivateBroker.with { broker in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, .v5, "rr-props")) { client in
                let requests = try await client.subscribe(to: ["rr/echo"])
                let responder = Task {
                    for try await m in requests {
                        #expect(m.properties.userProperties.first?.name == "trace")
                        #expect(m.properties.correlationData?.count == 8)
                        try await client.respond(to: m, payload: m.payload.reversed())
                    }
                }
                let reply = try await client.request(
                    topic: "rr/echo", payload: [1, 2, 3],
                    properties: [.userProperty(name: "trace", value: "abc")], timeout: .seconds(10))
                #expect(reply.payload == [3, 2, 1])
                responder.cancel()
            }
        }
    }
}
