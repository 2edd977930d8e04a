import BrokerLauncher
import Foundation
import Logging
import MetricsTestKit
import ServiceLifecycle
import TestSupport
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// A bridge between a fresh bus and a real broker, run as a service the way users run it.
enum BridgeHarness {
    /// The bridge's MQTT configuration for `broker`: a fresh client id, and (when `persistent`) a
    /// session that outlives connections, with reconnects, as a gateway would run it.
    static func configuration(
        _ broker: PrivateBroker, _ version: MQTTProtocolVersion, name: String = "bridge", persistent: Bool = false
    ) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: broker.port, version: version, clientID: "\(name)-\(UUID().uuidString.prefix(8))")
        if persistent {
            configuration.cleanStart = false
            configuration.sessionExpiry = 300
            configuration.reconnect = MQTTReconnectPolicy(
                initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
        }
        return configuration
    }

    /// Runs a bridge with `rules` (on `existing`, or a fresh bus), hands the bus and the bridge to
    /// `body`, then shuts the bridge down through graceful shutdown and returns its statistics.
    /// With `metrics`, the bridge records its instruments there.
    static func withBridge(
        _ configuration: MQTTClientConfiguration, rules: [BridgeRule],
        busConfiguration: BusConfiguration = BusConfiguration(),
        bus existing: VirtualBus? = nil, metrics: TestMetrics? = nil,
        _ body: (VirtualBus, MQTTBridge) async throws -> Void
    ) async throws -> [BridgeRuleStatistics] {
        let bus = try existing ?? VirtualBus(configuration: busConfiguration)
        let mqtt = MQTTClient(configuration: configuration)
        let bridge = MQTTBridge(bus: bus, mqtt: mqtt, rules: rules, metricsFactory: metrics)
        let group = ServiceGroup(services: [bridge], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        do {
            try await mqtt.waitUntilConnected()
            try await waitUntilRelaying(bridge)
            try await body(bus, bridge)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
        guard bus.isShutDown else { throw BridgeError(.invalidRule, "the bridge must shut the bus down last") }
        return bridge.statistics
    }

    /// Both sides' subscriptions exist once ``MQTTBridge/isRelaying`` is set.
    static func waitUntilRelaying(_ bridge: MQTTBridge) async throws {
        try await waitUntil("the bridge relaying") { bridge.isRelaying }
    }

    /// A client, with a reconnect policy, of a loopback port where no broker listens; the port
    /// refuses connections for as long as the caller holds `nobody`.
    static func clientOfUnreachableBroker(_ clientID: String) throws -> (nobody: RefusingPort, client: MQTTClient) {
        let nobody = try RefusingPort()
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: nobody.port, clientID: clientID)
        configuration.reconnect = MQTTReconnectPolicy()
        return (nobody, MQTTClient(configuration: configuration))
    }

    /// A foreign MQTT peer connected for the duration of `body`.
    static func peer(_ broker: PrivateBroker, _ version: MQTTProtocolVersion, _ body: (MQTTClient) async throws -> Void)
        async throws
    {
        let configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: broker.port, version: version, clientID: "peer-\(UUID().uuidString.prefix(8))")
        try await MQTTClient.withConnection(configuration: configuration) { client in try await body(client) }
    }
}
