// swift-format-ignore-file
// (The regions below are the docs' code blocks, line for line: the formatter leaves them as written.)
import Logging
import ServiceLifecycle
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// The code of every `swift` block in the VirtualBusBridge DocC catalogue, compiled with the tests;
/// `BridgeDocumentationExamplesTests` checks that each block is one of the regions below, line for
/// line, and runs the ones that need no broker.
enum BridgeDocumentationExamples {
    static func overview(bus: VirtualBus, logger: Logger) async throws {
        // BEGIN VirtualBusBridge.md
        var configuration = MQTTClientConfiguration(host: "broker.local", clientID: "gateway-1")
        configuration.reconnect = MQTTReconnectPolicy()   // ride out broker restarts, resuming the session
        configuration.publishQueueCapacity = 50_000       // the outage buffer, in messages
        configuration.publishQueuePolicy = .dropOldest    // what a full outage buffer does
        let bridge = MQTTBridge(bus: bus, mqtt: MQTTClient(configuration: configuration), rules: [
            try BridgeRule(.out, "sensors/#", remotePrefix: "site1/"),
            try BridgeRule(.in, "cmd/#", qos: .exactlyOnce, deny: ["cmd/secret/#"]),
        ])
        try await ServiceGroup(services: [bridge], gracefulShutdownSignals: [.sigterm], logger: logger).run()
        // END
    }

    static func composed(bus: VirtualBus, configuration: MQTTClientConfiguration, logger: Logger) async throws {
        // BEGIN VirtualBusBridge.md
        let client = MQTTClient(configuration: configuration)
        let composed = MQTTBridge(bus: bus, mqtt: client, rules: [try BridgeRule(.out, "sensors/#")], composition: .serviceGroup)
        try await ServiceGroup(services: [bus, client, composed], gracefulShutdownSignals: [.sigterm], logger: logger).run()
        // END
    }

    static func rules() throws -> [BridgeRule] {
        // BEGIN Rules.md
        let rules = [
            try BridgeRule(.out, "sensors/+/temp", localPrefix: "plant/", remotePrefix: "site1/", qos: .atMostOnce),
            try BridgeRule(.in, "cmd/#", qos: .exactlyOnce, allow: ["cmd/fan/#", "cmd/valve/#"], deny: ["cmd/fan/test"]),
            try BridgeRule(.both, "status/#", retain: .always),
        ]
        // END
        return rules
    }

    static func topicMapping() throws -> (prefix: String, filter: String, out: String?, skipped: String?) {
        // BEGIN TopicMapping.md
        let rule = try BridgeRule(.both, "sensors/+/temp", localPrefix: "plant/", remotePrefix: "site1/")
        let prefix = rule.busSubscriptionPrefix                        // "plant/sensors/"
        let filter = rule.mqttSubscriptionFilter                       // "site1/sensors/+/temp"
        let out = rule.mqttTopic(forBusTopic: "plant/sensors/a/temp")  // "site1/sensors/a/temp"
        let skipped = rule.mqttTopic(forBusTopic: "plant/sensors/a/b/temp")  // nil: `+` is one level
        // END
        return (prefix, filter, out, skipped)
    }

    static func retained() throws -> [BridgeRule] {
        // BEGIN RetainedMessages.md
        let retainedRules = [
            try BridgeRule(.in, "config/#"),                     // retained values replayed to late bus subscribers
            try BridgeRule(.out, "state/#", retain: .always),    // the broker keeps the last state per topic
        ]
        // END
        return retainedRules
    }
}
