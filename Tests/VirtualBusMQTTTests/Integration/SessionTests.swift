import Testing

@testable import VirtualBusMQTT

/// Reconnect with backoff, persistent sessions, resend with DUP, QoS 2 exactly once.
@Suite("Sessions and reconnect", .timeLimit(.minutes(1)))
struct SessionTests {
    @Test("connection cut mid-flight: reconnect resumes the session, QoS 2 arrives exactly once, all acknowledged",
          arguments: bothVersions)
    func resumeAfterCut(version: MQTTProtocolVersion) async throws {
        try await MosquittoBroker.with { broker in
            let proxy = try await TCPProxy.start(to: broker.port)
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "session-sub")) { subscriber in
                let sub = try await subscriber.subscribe(to: ["session/t"], options: .init(qos: .exactlyOnce))
                var config = testConfiguration(broker, version, "session-pub")
                config.port = proxy.port
                config.cleanStart = false
                config.sessionExpiry = 300
                config.maxInFlight = 20
                config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
                let publisher = MQTTClient(configuration: config)
                let task = try await startClient(publisher)
                let total = 2_000
                var tickets: [MQTTPublishTicket] = []
                for i in 0..<total {
                    tickets.append(try publisher.tryPublish(topic: "session/t", payload: [UInt8(i >> 8), UInt8(i & 0xFF)],
                                                            qos: .exactlyOnce))
                    if i == 300 || i == 1_200 { proxy.cut() }
                }
                for t in tickets { _ = try await withDeadline(.seconds(30), "publish outcome") { try await t.result() } }
                let (seen, duplicates) = try await withDeadline(.seconds(30), "all deliveries") {
                    var seen = Set<Int>()
                    var duplicates = 0
                    for try await m in sub {
                        let n = Int(m.payload[0]) << 8 | Int(m.payload[1])
                        if !seen.insert(n).inserted { duplicates += 1 }
                        if seen.count == total { break }
                    }
                    return (seen, duplicates)
                }
                #expect(seen.count == total)
                #expect(duplicates == 0, "QoS 2 delivered a message twice")
                let stats = publisher.statistics
                #expect(stats.publishesAcknowledged == total && stats.publishesPending == 0)
                publisher.shutdown()
                try await task.value
            }
            await proxy.stop()
        }
    }

    @Test("the publish queue holds messages while offline and sends them after reconnect", arguments: bothVersions)
    func offlineQueue(version: MQTTProtocolVersion) async throws {
        try await MosquittoBroker.with { broker in
            let proxy = try await TCPProxy.start(to: broker.port)
            var config = testConfiguration(broker, version, "offline")
            config.port = proxy.port
            config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(100))
            try await MQTTClient.withConnection(configuration: config) { client in
                let sub = try await client.subscribe(to: ["offline/t"], options: .init(qos: .atLeastOnce))
                proxy.cut()
                try await eventually(.seconds(5), "disconnect noticed") { !client.statistics.isConnected }
                var tickets: [MQTTPublishTicket] = []
                for i in 0..<10 { tickets.append(try client.tryPublish(topic: "offline/t", payload: [UInt8(i)], qos: .atLeastOnce)) }
                for t in tickets { _ = try await t.result() }
                var got: [UInt8] = []
                for try await m in sub {
                    got += m.payload
                    if got.count == 10 { break }
                }
                #expect(got == Array(0..<10))  // resubscribed on the new connection, order kept
            }
            await proxy.stop()
        }
    }
}
