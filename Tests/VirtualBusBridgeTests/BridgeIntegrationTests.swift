import BrokerLauncher
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// The bridge between a real bus and a real mosquitto (started by the test on a free port), with a
/// separate MQTT client as the foreign peer.
@Suite("Bridge against a real mosquitto", .timeLimit(.minutes(2)))
struct BridgeIntegrationTests {
    static let versions: [MQTTProtocolVersion] = [.v5, .v3_1_1]

    private func withBridge(
        _ broker: PrivateBroker, version: MQTTProtocolVersion, rules: [BridgeRule],
        _ body: (VirtualBus, MQTTBridge) async throws -> Void
    ) async throws -> [BridgeRuleStatistics] {
        try await BridgeHarness.withBridge(BridgeHarness.configuration(broker, version), rules: rules, body)
    }

    private func peer(
        _ broker: PrivateBroker, _ version: MQTTProtocolVersion, _ body: (MQTTClient) async throws -> Void
    ) async throws {
        try await BridgeHarness.peer(broker, version, body)
    }

    @Test("out: a bus message reaches an MQTT subscriber once, with the remote prefix", arguments: versions)
    func outbound(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let statistics = try await withBridge(
            broker, version: version, rules: [try BridgeRule(.out, "sensors/#", remotePrefix: "site1/")]
        ) { bus, _ in
            try await peer(broker, version) { client in
                let subscription = try await client.subscribe(to: ["site1/#"])
                let publisher = try bus.makePublisher()
                try publisher.publish(topic: "sensors/a/temp", payload: "21.5")
                try publisher.publish(topic: "other/x", payload: "not bridged")
                try publisher.publish(topic: "sensors/end", payload: "")
                var topics: [String] = []
                for try await message in subscription {
                    topics.append(message.topic.name)
                    if message.topic.name == "site1/sensors/end" { break }
                }
                #expect(topics == ["site1/sensors/a/temp", "site1/sensors/end"])
            }
        }
        #expect(statistics[0].forwardedOut == 2)
        #expect(statistics[0].acknowledgedOut == 2)
    }

    @Test(
        "in: an MQTT message reaches bus subscribers as the mapped topic and payload, nothing else", arguments: versions
    )
    func inbound(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let statistics = try await withBridge(
            broker, version: version,
            rules: [try BridgeRule(.in, "cmd/#", localPrefix: "local/", remotePrefix: "site1/")]
        ) { bus, _ in
            let subscription = try await bus.subscribe(to: ["local/cmd/"])
            try await peer(broker, version) { client in
                try await client.publish(topic: "site1/cmd/fan", string: "on", qos: .atLeastOnce)
            }
            var iterator = subscription.makeAsyncIterator()
            let message = try #require(await iterator.next())
            #expect(message.topic == "local/cmd/fan")
            #expect(message.payloadString == "on")
        }
        #expect(statistics[0].forwardedIn == 1)
    }

    @Test("both: no loops — one message, exactly one arrival on the other side, none back", arguments: versions)
    func bothWithoutLoops(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let statistics = try await withBridge(broker, version: version, rules: [try BridgeRule(.both, "chat/#")]) {
            bus, _ in
            let busSide = try await bus.subscribe(to: ["chat/"])
            try await peer(broker, version) { client in
                let mqttSide = try await client.subscribe(to: ["chat/#"])
                // Bus -> MQTT once.
                try bus.makePublisher().publish(topic: "chat/from-bus", payload: "A")
                var mqttIterator = mqttSide.makeAsyncIterator()
                #expect(try await mqttIterator.next()?.topic.name == "chat/from-bus")
                // Barrier: a message from MQTT comes in on the bridge's connection after any echo
                // of A the broker sent back, so an echo would reach the bus before it.
                try await client.publish(topic: "chat/from-mqtt", string: "B", qos: .atLeastOnce)
                var busIterator = busSide.makeAsyncIterator()
                #expect(await busIterator.next()?.topic == "chat/from-bus")  // the local original
                let next = try #require(await busIterator.next())
                #expect(next.topic == "chat/from-mqtt", "A must not come back onto the bus")
                // ...and B must not go back out to MQTT: the peer sees its own B (no No Local on
                // its side) and then the next bus message, nothing in between.
                #expect(try await mqttIterator.next()?.topic.name == "chat/from-mqtt")
                try bus.makePublisher().publish(topic: "chat/after", payload: "C")
                #expect(try await mqttIterator.next()?.topic.name == "chat/after", "B must not be relayed back out")
            }
        }
        #expect(statistics[0].forwardedOut == 2)
        #expect(statistics[0].forwardedIn == 1)
        if version == .v3_1_1 {
            #expect(statistics[0].loopsPrevented >= 1, "3.1.1 brokers echo our publishes; the echo filter drops them")
        }
    }

    @Test("an unreachable broker fails the bridge with a clear error naming it, and the bus is shut down")
    func unreachableBroker() async throws {
        let (nobody, mqtt) = try BridgeHarness.clientOfUnreachableBroker("unreachable")
        defer { nobody.release() }
        let bus = try VirtualBus()
        let bridge = MQTTBridge(
            bus: bus, mqtt: mqtt, rules: [try BridgeRule(.out, "#")], connectTimeout: .milliseconds(300))
        await #expect { try await bridge.run() } throws: { error in
            guard let error = error as? BridgeError else { return false }
            return error.code == .brokerUnavailable && error.message.contains("127.0.0.1:\(nobody.port)")
        }
        #expect(bus.isShutDown)
    }

    @Test(
        "a bridge without a reconnect policy that loses its broker stops in order and throws the session's error",
        arguments: versions)
    func lostBrokerWithoutReconnect(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let bus = try VirtualBus()
        let mqtt = MQTTClient(
            configuration: MQTTClientConfiguration(
                host: "127.0.0.1", port: broker.port, version: version, clientID: "no-reconnect"))
        let bridge = MQTTBridge(bus: bus, mqtt: mqtt, rules: [try BridgeRule(.out, "data/#")])
        // The README's way to run it: a service group; the bridge ends the group when it ends.
        let group = ServiceGroup(services: [bridge], logger: Logger(label: "test"))
        let ended = Atomic<Bool>(false)
        let running = Task { () -> (any Error)? in
            defer { ended.store(true, ordering: .releasing) }
            do { try await group.run() } catch { return error }
            return nil
        }
        try await BridgeHarness.waitUntilRelaying(bridge)
        broker.kill()
        try await waitUntil("the bridge to end after its broker went away", within: .seconds(20)) {
            ended.load(ordering: .acquiring)
        }
        let error = await running.value
        #expect((error as? MQTTError)?.code == .connectionFailed, "ended with \(String(describing: error))")
        #expect(bus.isShutDown)
        // Nothing keeps accepting messages that can only fail: the bus refuses them, clearly.
        #expect(throws: BusError.self) { try bus.makePublisher().publish(topic: "data/x", payload: "1") }
    }
}
