import BrokerLauncher
import Synchronization
import Testing
import TestSupport
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// MQTT -> bus acknowledges to the broker only after the bus accepted the message.
@Suite("Bridge: inbound acknowledged only after the bus accepted", .timeLimit(.minutes(2)))
struct BridgeAcknowledgementTests {
    @Test(
        """
        a full bus holds the acknowledgement; a bridge stopped meanwhile loses nothing: the next session gets the \
        rest
        """,
        arguments: [MQTTProtocolVersion.v5, .v3_1_1])
    func fullBusThenRestart(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let total = 100
        let session = BridgeHarness.configuration(broker, version, persistent: true)
        let rule = try BridgeRule(.in, "cmd/#", qos: .atLeastOnce)
        var tiny = BusConfiguration()
        tiny.highWaterMark = 1

        // First bridge: its bus fills up (a subscriber that never reads, queues of one message).
        let first = try await BridgeHarness.withBridge(session, rules: [rule], busConfiguration: tiny) { bus, bridge in
            let stuck = try await bus.subscribe(to: ["cmd/"], bufferCapacity: 1, bufferPolicy: .backpressure)
            try await BridgeHarness.peer(broker, version) { peer in
                for index in 0..<total {
                    try await peer.publish(topic: try MQTTTopic("cmd/\(index)"), string: "\(index)", qos: .atLeastOnce)
                }
            }
            try await waitUntil("the bridge waiting on the full bus", within: .seconds(20)) {
                bridge.statistics[0].busFullWaits > 0
            }
            withExtendedLifetime(stuck) {}
        }
        // Counted once the first bridge has stopped: until then it may still get one more in.
        let acceptedByFirstBus = first[0].forwardedIn
        #expect(first[0].droppedIn.isEmpty, "a full bus is waited for, not dropped")
        #expect(acceptedByFirstBus < total)

        // Second bridge, same session: the broker sends again what the first never acknowledged.
        // Subscribed before the bridge starts: redeliveries come right after it connects.
        let received = Mutex(Set<Int>())
        let secondBus = try VirtualBus()
        let subscription = try await secondBus.subscribe(to: ["cmd/"])
        let collecting = Task {
            for await message in subscription {
                if let index = Int(message.payloadString) { received.withLock { _ = $0.insert(index) } }
            }
        }
        _ = try await BridgeHarness.withBridge(session, rules: [rule], bus: secondBus) { _, bridge in
            try await waitUntil(
                "redelivery (got \(received.withLock { $0.count }); bridge \(bridge.statistics[0]))",
                within: .seconds(30)
            ) {
                received.withLock { $0.isSuperset(of: acceptedByFirstBus..<total) }
            }
        }
        collecting.cancel()
        let missing = Set(acceptedByFirstBus..<total).subtracting(received.withLock { $0 })
        #expect(
            missing.isEmpty,
            "never accepted by the first bus, so never acknowledged, so delivered again: \(missing.sorted().prefix(10))"
        )
    }
}
