import BrokerLauncher
import Testing
import TestSupport
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// What a rule says, through a running bridge and a real mosquitto (the mapping tests check the
/// rules alone): allow and deny lists, each rule's own QoS, and outbound retain with deletes.
@Suite("Bridge rules through a running bridge", .timeLimit(.minutes(1)))
struct BridgeRuleBehaviourTests {
    static let versions: [MQTTProtocolVersion] = [.v5, .v3_1_1]

    @Test("allow and deny lists pick what travels; each rule publishes at its own QoS", arguments: versions)
    func allowDenyAndQoS(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let rules = [
            try BridgeRule(
                .out, "data/#", remotePrefix: "site/", qos: .atMostOnce, allow: ["data/a/#", "data/b/#"],
                deny: ["data/b/secret"]),
            try BridgeRule(.out, "alarm/#", remotePrefix: "site/", qos: .exactlyOnce),
        ]
        try await BridgeHarness.peer(broker, version) { peer in
            let subscription = try await peer.subscribe(
                to: ["site/#"], options: MQTTSubscriptionOptions(qos: .exactlyOnce))
            _ = try await BridgeHarness.withBridge(BridgeHarness.configuration(broker, version), rules: rules) {
                bus, _ in
                let publisher = try bus.makePublisher()
                for topic in ["data/a/1", "data/b/1", "data/b/secret", "data/c/1", "alarm/fire", "alarm/end"] {
                    try publisher.publish(topic: topic, payload: topic)
                }
                // Everything before the end marker has reached the broker first (QoS 0 is written
                // at once; the QoS 2 marker is delivered at its PUBREL), so what is missing when the
                // marker arrives was not relayed.
                var received: [String] = []
                for try await message in subscription {
                    received.append("\(message.topic.name) qos\(message.qos.rawValue)")
                    if message.topic.name == "site/alarm/end" { break }
                }
                #expect(
                    received == [
                        "site/data/a/1 qos0", "site/data/b/1 qos0", "site/alarm/fire qos2", "site/alarm/end qos2",
                    ])
            }
        }
    }

    @Test("retain: always keeps the last value on the broker, and an empty bus payload deletes it", arguments: versions)
    func outboundRetainAndDelete(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let rule = try BridgeRule(.out, "state/#", remotePrefix: "site/", qos: .atLeastOnce, retain: .always)
        _ = try await BridgeHarness.withBridge(BridgeHarness.configuration(broker, version), rules: [rule]) {
            bus, bridge in
            let publisher = try bus.makePublisher()
            try publisher.publish(topic: "state/door", payload: "open")
            try publisher.publish(topic: "state/lamp", payload: "on")
            try publisher.publish(topic: "state/lamp", payload: "")
            try await waitUntil("three acknowledged (\(bridge.statistics[0]))", within: .seconds(10)) {
                bridge.statistics[0].acknowledgedOut == 3
            }
        }
        // A subscriber that comes later gets the retained values. Its one SUBSCRIBE names the
        // deleted topic first: mosquitto sends retained values filter by filter, so a lamp value
        // left behind would come before the door's.
        try await BridgeHarness.peer(broker, version) { late in
            let subscription = try await late.subscribe(
                to: ["site/state/lamp", "site/state/door"], options: MQTTSubscriptionOptions(qos: .atLeastOnce))
            var iterator = subscription.makeAsyncIterator()
            let first = try #require(try await iterator.next())
            #expect(
                first.topic.name == "site/state/door" && first.payload == Array("open".utf8) && first.retain,
                "\(first.topic.name)")
        }
    }
}
