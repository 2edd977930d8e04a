import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// Field report 4 (paho.mqtt.c): purged messages whose completions never fired.
@Suite("Promise 4: every accepted publish ends in exactly one outcome", .timeLimit(.minutes(1)))
struct OutcomeTests {
    /// Awaits every ticket and tallies its outcome by error code (or "acknowledged").
    static func tally(_ tickets: [MQTTPublishTicket]) async -> [String: Int] {
        var tally: [String: Int] = [:]
        for t in tickets {
            do throws(MQTTError) {
                _ = try await t.result()
                tally["acknowledged", default: 0] += 1
            } catch {
                tally[error.code.description, default: 0] += 1
            }
        }
        return tally
    }

    @Test("shutdown in the middle of 2,000 QoS 1/2 publishes", arguments: bothVersions)
    func shutdownMidFlight(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            var config = testConfiguration(broker, version, "outcome-shutdown")
            config.maxInFlight = 10
            config.publishQueueCapacity = 5_000
            weak var weakClient: MQTTClient?
            try await {
                let client = MQTTClient(configuration: config)
                weakClient = client
                let task = try await startClient(client)
                var tickets: [MQTTPublishTicket] = []
                var rejected = 0
                for i in 0..<2_000 {
                    do throws(MQTTError) {
                        tickets.append(
                            try client.tryPublish(
                                topic: "out/s", payload: [UInt8(i & 0xFF)],
                                qos: i % 2 == 0 ? .atLeastOnce : .exactlyOnce))
                    } catch {
                        #expect(error.code == .shutdown && i > 1_000)
                        rejected += 1
                    }
                    if i == 1_000 { client.shutdown() }
                }
                var tally = try await withDeadline(.seconds(20), "outcomes") { [tickets] in await Self.tally(tickets) }
                tally["shutdown", default: 0] += rejected
                #expect(tally.values.reduce(0, +) == 2_000)
                #expect(Set(tally.keys).isSubset(of: ["acknowledged", "shutdown"]))
                #expect((tally["shutdown"] ?? 0) >= 999)  // everything after shutdown() at least
                try await task.value
                let stats = client.statistics
                #expect(stats.publishesAccepted == 2_000 && stats.publishesPending == 0)
                #expect(stats.queueDepth == 0 && stats.inFlight == 0)
            }()
            // Nothing is retained once the client is shut down and released.
            try await waitUntil("client released", within: .seconds(5)) { weakClient == nil }
        }
    }

    @Test(
        "broker dies with messages in flight and queued: all fail with sessionLost or were acknowledged",
        arguments: bothVersions)
    func brokerDies(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            var config = testConfiguration(broker, version, "outcome-kill")
            config.maxInFlight = 5
            let client = MQTTClient(configuration: config)
            let task = try await startClient(client)
            var tickets: [MQTTPublishTicket] = []
            for i in 0..<500 {
                tickets.append(try client.tryPublish(topic: "out/k", payload: [UInt8(i & 0xFF)], qos: .exactlyOnce))
            }
            broker.stop()
            let tally = try await withDeadline(.seconds(20), "outcomes") { [tickets] in await Self.tally(tickets) }
            #expect(tally.values.reduce(0, +) == 500)
            #expect(Set(tally.keys).isSubset(of: ["acknowledged", "sessionLost"]))
            await #expect(throws: MQTTError.self) { try await task.value }
            // After the session ended, new publishes fail at once instead of hanging.
            #expect(throws: MQTTError.self) { try client.tryPublish(topic: "out/k", payload: [], qos: .atLeastOnce) }
            let stats = client.statistics
            #expect(stats.publishesPending == 0 && stats.queueDepth == 0 && stats.inFlight == 0)
        }
    }

    @Test("overflow under drop-oldest while connected: accepted = acknowledged + dropped", arguments: bothVersions)
    func overflowConnected(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            var config = testConfiguration(broker, version, "outcome-overflow")
            config.maxInFlight = 2
            config.publishQueueCapacity = 20
            config.publishQueuePolicy = .dropOldest
            try await MQTTClient.withConnection(configuration: config) { client in
                var tickets: [MQTTPublishTicket] = []
                for i in 0..<1_000 {
                    tickets.append(try client.tryPublish(topic: "out/o", payload: [UInt8(i & 0xFF)], qos: .atLeastOnce))
                }
                let tally = try await withDeadline(.seconds(20), "outcomes") { [tickets] in await Self.tally(tickets) }
                #expect(tally.values.reduce(0, +) == 1_000)
                #expect((tally["droppedByPolicy"] ?? 0) > 0)
                let stats = client.statistics
                #expect(
                    stats.publishesAcknowledged == tally["acknowledged"]
                        && stats.publishesFailed["droppedByPolicy"] == tally["droppedByPolicy"])
                #expect(stats.publishesPending == 0)
            }
        }
    }
}
