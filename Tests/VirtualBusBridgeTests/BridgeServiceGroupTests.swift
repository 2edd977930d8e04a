import BrokerLauncher
import Foundation
import Logging
import ServiceLifecycle
import Testing
import TestSupport
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// A bridge composed with its bus and client in one ServiceGroup (`.serviceGroup`): the group owns
/// the order. A graceful shutdown right after a burst stops the bridge first, which drains what it
/// took, then the client, then the bus: every message the bridge took is acknowledged, none failed.
/// Listing the services in another order (the client stopped before the bridge drained) fails the
/// burst's in-flight publishes with `shutdown`, and this test with them.
@Suite("Bridge in a ServiceGroup with its bus and client", .timeLimit(.minutes(2)))
struct BridgeServiceGroupTests {
    @Test(
        "the group stops bridge, then client, then bus; everything taken is acknowledged and reaches the peer",
        arguments: [MQTTProtocolVersion.v5, .v3_1_1])
    func composedShutdownOrder(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let bus = try VirtualBus()
        let mqtt = MQTTClient(configuration: BridgeHarness.configuration(broker, version))
        let bridge = MQTTBridge(
            bus: bus, mqtt: mqtt, rules: [try BridgeRule(.out, "data/#"), try BridgeRule(.in, "cmd/#")],
            shutdownTimeout: .seconds(20), composition: .serviceGroup)
        let group = ServiceGroup(services: [bus, mqtt, bridge], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await BridgeHarness.waitUntilRelaying(bridge)
        try await BridgeHarness.peer(broker, version) { peer in
            let received = try await peer.subscribe(to: ["data/#"], options: .init(qos: .atLeastOnce))
            // MQTT -> bus while composed.
            let commands = try await bus.subscribe(to: ["cmd/"])
            try await peer.publish(topic: "cmd/fan", string: "on", qos: .atLeastOnce)
            #expect(try await commands.first(1).map(\.topic) == ["cmd/fan"])
            // Bus -> MQTT: a burst, and the graceful shutdown right behind it.
            let publisher = try bus.makePublisher()
            for index in 0..<2_000 { try publisher.publish(topic: "data/\(index % 8)", payload: "\(index)") }
            // Stop while publishes are in flight: once the bridge has taken part of the burst.
            try await waitUntil("the burst under way") { bridge.statistics[0].forwardedOut >= 200 }
            await group.triggerGracefulShutdown()
            try await withDeadline(.seconds(60), "the group to stop") { try await running.value }
            let statistics = bridge.statistics[0]
            #expect(statistics.forwardedOut > 0, "the burst was relayed before the stop")
            #expect(
                statistics.failedOut.isEmpty, "in-flight publishes failed: the client stopped before the bridge drained"
            )
            #expect(statistics.acknowledgedOut == statistics.forwardedOut)
            #expect(bus.isShutDown && !mqtt.statistics.isConnected)
            // The peer, still connected, receives each acknowledged message.
            let expected = statistics.acknowledgedOut
            let seen = try await withDeadline(.seconds(30), "the peer to receive \(expected)") {
                var seen = Set<String>()
                for try await message in received {
                    seen.insert(String(decoding: message.payload, as: UTF8.self))
                    if seen.count == expected { break }
                }
                return seen.count
            }
            #expect(seen == expected)
        }
    }

    @Test("without a broker the composed bridge fails its start with a clear error and leaves the bus to the group")
    func composedUnreachableBroker() async throws {
        let (nobody, mqtt) = try BridgeHarness.clientOfUnreachableBroker("composed-unreachable")
        defer { nobody.release() }
        let bus = try VirtualBus()
        let bridge = MQTTBridge(
            bus: bus, mqtt: mqtt, rules: [try BridgeRule(.out, "#")], connectTimeout: .milliseconds(300),
            composition: .serviceGroup)
        let group = ServiceGroup(services: [bus, mqtt, bridge], logger: Logger(label: "test"))
        await #expect { try await withDeadline(.seconds(20), "the group to end") { try await group.run() } } throws: {
            error in
            (error as? BridgeError)?.code == .brokerUnavailable
        }
        #expect(bus.isShutDown, "the group shut the bus down after the bridge failed")
    }
}
