import BrokerLauncher
import Testing
import TestSupport
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// Retained MQTT messages reach late bus subscribers through the bridge's bus-side last-value cache.
@Suite("Bridge: retained messages in a bus-side last-value cache", .timeLimit(.minutes(1)))
struct BridgeRetainedTests {
    static func rule() throws -> BridgeRule {
        try BridgeRule(.in, "state/#", localPrefix: "local/", remotePrefix: "site/")
    }

    @Test(
        "a value retained before the bridge started reaches a late bus subscriber",
        arguments: [MQTTProtocolVersion.v5, .v3_1_1])
    func retainedBeforeStart(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        try await BridgeHarness.peer(broker, version) { peer in
            try await peer.publish(topic: "site/state/door", string: "open", qos: .atLeastOnce, retain: true)
        }
        _ = try await BridgeHarness.withBridge(BridgeHarness.configuration(broker, version), rules: [try Self.rule()]) {
            bus, bridge in
            try await waitUntil("the retained value in the cache", within: .seconds(10)) {
                bridge.retainedStatistics?.topics == 1
            }
            let late = try await bus.subscribe(to: ["local/state/"])
            var iterator = late.makeAsyncIterator()
            let value = try #require(await iterator.next())
            #expect(value.topic == "local/state/door")
            #expect(value.payloadString == "open")
        }
    }

    @Test("5.0: live retained updates and deletes reach the cache; late subscribers get the latest value only")
    func updatesAndDeletes() async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        _ = try await BridgeHarness.withBridge(BridgeHarness.configuration(broker, .v5), rules: [try Self.rule()]) {
            bus, bridge in
            let current = try await bus.subscribe(to: ["local/state/"])
            var live = current.makeAsyncIterator()
            try await BridgeHarness.peer(broker, .v5) { peer in
                try await peer.publish(topic: "site/state/door", string: "open", qos: .atLeastOnce, retain: true)
                try await peer.publish(topic: "site/state/door", string: "closed", qos: .atLeastOnce, retain: true)
                try await peer.publish(topic: "site/state/lamp", string: "on", qos: .atLeastOnce, retain: true)
                // An empty retained payload deletes the value.
                try await peer.publish(topic: "site/state/lamp", payload: [], qos: .atLeastOnce, retain: true)
            }
            // The current subscriber sees every change live, the delete as an empty payload.
            var changes: [String] = []
            for _ in 0..<4 {
                if let message = await live.next() { changes.append("\(message.topic)=\(message.payloadString)") }
            }
            #expect(
                changes == [
                    "local/state/door=open", "local/state/door=closed", "local/state/lamp=on", "local/state/lamp=",
                ])
            // Counted right after the hand-over, so possibly just after the subscriber saw it.
            try await waitUntil("four retained counted", within: .seconds(5)) { bridge.statistics[0].retainedIn == 4 }
            #expect(bridge.retainedStatistics?.topics == 1)

            let replayedBefore = bridge.retainedStatistics?.replayed ?? 0
            let late = try await bus.subscribe(to: ["local/state/"])
            var iterator = late.makeAsyncIterator()
            let value = try #require(await iterator.next())
            #expect("\(value.topic)=\(value.payloadString)" == "local/state/door=closed")
            try await waitUntil("the replay counted", within: .seconds(5)) {
                (bridge.retainedStatistics?.replayed ?? 0) > replayedBefore
            }
            // One subscription prefix, one covered value: the deleted lamp is not replayed.
            #expect(bridge.retainedStatistics?.replayed == replayedBefore + 1)
        }
    }
}
