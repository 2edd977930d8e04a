// swift-format-ignore-file
// (The regions below are the docs' code blocks, line for line: the formatter leaves them as written.)
import Logging
import ServiceLifecycle
import VirtualBusMQTT

/// The code of every `swift` block in the DocC catalogue and in docs/MQTT.md, compiled with the
/// tests so the examples cannot rot. `DocumentationExamplesTests` checks that each block in the
/// docs is, line for line, one of the regions below (`// BEGIN file` ... `// END`).
///
/// What the examples take for granted (a configuration, a logger, the application's own store or
/// SCRAM implementation) comes in as parameters.
enum DocumentationExamples {
    protocol Store: Sendable { func save(_ payload: [UInt8]) async throws }
    protocol SCRAM: Sendable { func answer(_ serverData: [UInt8]) async throws -> [UInt8] }

    static func overview() async throws {
        // BEGIN VirtualBusMQTT.md
        let config = MQTTClientConfiguration(host: "127.0.0.1", port: 1883, version: .v5, clientID: "sensor-1")
        try await MQTTClient.withConnection(configuration: config) { client in
            let commands = try await client.subscribe(to: ["site/+/command"], options: .init(qos: .atLeastOnce))
            for try await command in commands {
                // Awaiting a publish inside the loop completes at every QoS: nothing runs on the event loop.
                try await client.publish(topic: "site/ack", payload: command.payload, qos: .exactlyOnce)
            }
        }
        // END
    }

    static func service(config: MQTTClientConfiguration, logger: Logger) async throws {
        // BEGIN Connections.md
        let client = MQTTClient(configuration: config, logger: logger)
        let group = ServiceGroup(services: [client], logger: logger)
        try await group.run()
        // END
    }

    static func authentication(clientFirst: [UInt8], scram: some SCRAM) -> MQTTClientConfiguration {
        // BEGIN Connections.md
        var config = MQTTClientConfiguration(host: "broker.example", version: .v5, clientID: "meter-7")
        config.authentication = MQTTAuthentication(method: "SCRAM-SHA-256", initialData: clientFirst) { challenge in
            try await scram.answer(challenge.data ?? [])   // runs in its own task, never on the event loop
        }
        // END
        return config
    }

    static func manualAcknowledgement(client: MQTTClient, store: some Store) async throws {
        // BEGIN Acknowledgement.md
        let subscription = try await client.subscribe(to: ["site/+/reading"], options: .init(qos: .atLeastOnce),
                                                      acknowledgement: .manual)
        for try await message in subscription {
            try await store.save(message.payload)   // your "accepted" step
            message.acknowledge()                   // now PUBACK / PUBREC goes to the broker
        }
        // END
    }
}
