import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// Reconnect with backoff, persistent sessions, resend with DUP, QoS 2 exactly once.
@Suite("Sessions and reconnect", .timeLimit(.minutes(1)))
struct SessionTests {
    @Test(
        "connection cut mid-flight: reconnect resumes the session, QoS 2 arrives exactly once, all acknowledged",
        arguments: bothVersions)
    func resumeAfterCut(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            let proxy = try await TCPProxy.start(to: broker.port)
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "session-sub")) {
                subscriber in
                let sub = try await subscriber.subscribe(to: ["session/t"], options: .init(qos: .exactlyOnce))
                var config = testConfiguration(broker, version, "session-pub")
                config.port = proxy.port
                config.cleanStart = false
                config.sessionExpiry = 300
                config.maxInFlight = 20
                config.reconnect = MQTTReconnectPolicy(
                    initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
                let publisher = MQTTClient(configuration: config)
                let task = try await startClient(publisher)
                let total = 2_000
                var tickets: [MQTTPublishTicket] = []
                for i in 0..<total {
                    tickets.append(
                        try publisher.tryPublish(
                            topic: "session/t", payload: [UInt8(i >> 8), UInt8(i & 0xFF)],
                            qos: .exactlyOnce))
                    if i == 300 || i == 1_200 { proxy.cut() }
                }
                for t in tickets {
                    _ = try await withDeadline(.seconds(30), "publish outcome") { try await t.result() }
                }
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
        try await PrivateBroker.with { broker in
            let proxy = try await TCPProxy.start(to: broker.port)
            var config = testConfiguration(broker, version, "offline")
            config.port = proxy.port
            config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(100))
            try await MQTTClient.withConnection(configuration: config) { client in
                let sub = try await client.subscribe(to: ["offline/t"], options: .init(qos: .atLeastOnce))
                // The loss is awaited as an event, not polled: with full jitter the reconnect can
                // follow within microseconds, and a poll on a loaded machine would miss the gap.
                let events = client.events()
                proxy.cut()
                _ = try await withDeadline(.seconds(5), "disconnect noticed") {
                    for await event in events { if case .connectionLost = event { return true } }
                    return false
                }
                var tickets: [MQTTPublishTicket] = []
                for i in 0..<10 {
                    tickets.append(try client.tryPublish(topic: "offline/t", payload: [UInt8(i)], qos: .atLeastOnce))
                }
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

@Suite("Broker restart with persistence", .timeLimit(.minutes(1)))
struct BrokerRestartTests {
    @Test(
        "mosquitto killed and restarted on the same port: sessions resume, queued publishes go out",
        arguments: bothVersions)
    func restart(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with(persistence: true) { broker in
            func persistent(_ name: String) -> MQTTClientConfiguration {
                var config = testConfiguration(broker, version, name)
                config.cleanStart = false
                config.sessionExpiry = 300
                config.reconnect = MQTTReconnectPolicy(
                    initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
                return config
            }
            let subscriber = MQTTClient(configuration: persistent("restart-sub"))
            let publisher = MQTTClient(configuration: persistent("restart-pub"))
            let subTask = try await startClient(subscriber)
            let pubTask = try await startClient(publisher)
            let sub = try await subscriber.subscribe(to: ["restart/t"], options: .init(qos: .atLeastOnce))
            for i in 0..<50 { try await publisher.publish(topic: "restart/t", payload: [UInt8(i)], qos: .atLeastOnce) }
            var it = sub.makeAsyncIterator()
            var got = Set<UInt8>()
            while got.count < 50, let m = try await it.next() { got.insert(m.payload[0]) }

            broker.kill()  // SIGKILL: the broker's state is what autosave_on_changes wrote
            try await waitUntil("clients notice the dead broker", within: .seconds(5)) {
                !subscriber.statistics.isConnected && !publisher.statistics.isConnected
            }
            // Published while the broker is down: held in the bounded offline queue.
            var tickets: [MQTTPublishTicket] = []
            for i in 50..<100 {
                tickets.append(try publisher.tryPublish(topic: "restart/t", payload: [UInt8(i)], qos: .atLeastOnce))
            }
            try await broker.start()
            for t in tickets {
                _ = try await withDeadline(.seconds(20), "publish after restart") { try await t.result() }
            }
            while got.count < 100, let m = try await it.next() { got.insert(m.payload[0]) }
            #expect(got.count == 100)
            // The subscriber's session (and subscription) survived the restart.
            #expect(subscriber.core.state.withLock { $0.sessionPresent })
            subscriber.shutdown()
            publisher.shutdown()
            try await subTask.value
            try await pubTask.value
        }
    }
}
