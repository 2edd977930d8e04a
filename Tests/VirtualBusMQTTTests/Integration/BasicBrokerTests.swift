import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

@Suite("Against a real mosquitto: basics", .timeLimit(.minutes(1)))
struct BasicBrokerTests {
    @Test("publish and receive at QoS 0, 1 and 2", arguments: bothVersions)
    func roundTrip(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "basic")) { client in
                let sub = try await client.subscribe(to: ["basic/#"], options: .init(qos: .exactlyOnce))
                #expect(sub.reasonCodes == [.grantedQoS2])
                for qos in MQTTQoS.allCases {
                    let result = try await client.publish(
                        topic: MQTTTopic("basic/\(qos.rawValue)"), payload: [qos.rawValue, 1, 2],
                        qos: qos)
                    #expect(result.qos == qos)
                    #expect(!result.reasonCode.isFailure)
                }
                var received: [MQTTMessage] = []
                for try await message in sub {
                    received.append(message)
                    if received.count == 3 { break }
                }
                #expect(received.map(\.payload) == [[0, 1, 2], [1, 1, 2], [2, 1, 2]])
                #expect(received.map(\.qos) == [.atMostOnce, .atLeastOnce, .exactlyOnce])
                let stats = client.statistics
                #expect(stats.publishesAccepted == 3 && stats.publishesAcknowledged == 3)
            }
        }
    }

    @Test("overlapping local subscriptions share one broker subscription", arguments: bothVersions)
    func sharing(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "share")) { client in
                let a = try await client.subscribe(to: ["share/x"])
                let b = try await client.subscribe(to: ["share/x", "share/y"])
                #expect(
                    client.core.state.withLock {
                        $0.subscriptions.brokerFilters[MQTTTopicFilter("share/x")]?.references
                    } == 2)
                try await client.publish(topic: "share/x", payload: [1], qos: .atLeastOnce)
                var ia = a.makeAsyncIterator()
                var ib = b.makeAsyncIterator()
                #expect(try await ia.next()?.payload == [1])
                #expect(try await ib.next()?.payload == [1])
                try await a.unsubscribe()
                #expect(
                    client.core.state.withLock {
                        $0.subscriptions.brokerFilters[MQTTTopicFilter("share/x")]?.references
                    } == 1)
                try await client.publish(topic: "share/x", payload: [2], qos: .atLeastOnce)
                #expect(try await ib.next()?.payload == [2])
                #expect(try await ia.next() == nil)
                try await b.unsubscribe()
                #expect(client.core.state.withLock { $0.subscriptions.brokerFilters.isEmpty })
            }
        }
    }

    @Test("subscribing before the connection exists completes on CONNACK", arguments: bothVersions)
    func subscribeOffline(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            let client = MQTTClient(configuration: testConfiguration(broker, version, "early"))
            let pending = Task { try await client.subscribe(to: ["early/t"], options: .init(qos: .atLeastOnce)) }
            try await waitUntil("registered", within: .seconds(5)) {
                client.core.state.withLock { !$0.subscriptions.brokerFilters.isEmpty }
            }
            let task = try await startClient(client)
            let sub = try await withDeadline(.seconds(10), "offline subscribe") { try await pending.value }
            #expect(sub.reasonCodes == [.grantedQoS1])
            try await client.publish(topic: "early/t", payload: [5], qos: .atLeastOnce)
            var it = sub.makeAsyncIterator()
            #expect(try await it.next()?.payload == [5])
            client.shutdown()
            try await task.value
        }
    }

    @Test("a refused connection reports the broker's reason; credentials never appear in errors")
    func refused() async throws {
        try await PrivateBroker.with(extraConfig: "") { broker in
            var config = testConfiguration(broker, .v3_1_1, "refused")
            config.port = broker.port
            config.clientID = ""
            config.cleanStart = false  // empty client id with clean start false: refused [MQTT-3.1.3-8]
            config.credentials = MQTTCredentials(username: "user-secret-name", password: "hunter2-secret")
            let client = MQTTClient(configuration: config)
            do {
                try await withDeadline(.seconds(10)) { try await client.run() }
                Issue.record("run() should throw")
            } catch let error as MQTTError {
                #expect(error.code == .connectionRefused)
                #expect(error.reasonCode == .clientIdentifierNotValid)
                #expect(!"\(error)".contains("hunter2") && !"\(error)".contains("user-secret"))
            }
            #expect(!"\(config.credentials!)".contains("hunter2"))
        }
    }
}
