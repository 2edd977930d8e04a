// swift-format-ignore-file
// (The regions below are the docs' code blocks, line for line: the formatter leaves them as written.)
import Logging
import ServiceLifecycle
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// The code of every `swift` block in README.md, compiled with the tests so the examples cannot
/// rot; `ReadmeExamplesTests` checks that each block is one of the regions below, line for line.
/// This target is the one that sees all three modules the README shows.
enum ReadmeExamples {
    static func bus() async throws {
        // BEGIN README.md
        let bus = try VirtualBus()
        let readings = try await bus.subscribe(to: ["sensors/"])   // returns once the proxy has it
        let publisher = try bus.makePublisher()
        try publisher.publish(topic: "sensors/boiler/temp", payload: "61.5")  // returns when libzmq has it

        for await message in readings {          // ends normally when the bus shuts down
            print(message.topic, message.payloadString)
        }
        let report = await bus.shutdown()        // ordered, bounded, idempotent; callable from anywhere
        // END
        _ = report
    }

    static func mqtt() async throws {
        // BEGIN README.md
        let config = MQTTClientConfiguration(host: "127.0.0.1", port: 1883, version: .v5, clientID: "sensor-1")
        try await MQTTClient.withConnection(configuration: config) { client in
            let commands = try await client.subscribe(to: ["site/+/command"], options: .init(qos: .atLeastOnce))
            for try await command in commands {
                // Awaiting a publish here completes at every QoS: handlers never run on the event loop.
                let result = try await client.publish(topic: "site/ack", payload: command.payload, qos: .exactlyOnce)
                print("acknowledged with", result.reasonCode)
            }
        }
        // END
    }

    static func bridge(logger: Logger) async throws {
        // BEGIN README.md
        let bus = try VirtualBus()
        let mqtt = MQTTClient(configuration: MQTTClientConfiguration(host: "broker.local", clientID: "gateway-1"))
        let bridge = MQTTBridge(bus: bus, mqtt: mqtt, rules: [
            try BridgeRule(.out, "sensors/#", remotePrefix: "site1/"),  // bus sensors/... -> MQTT site1/sensors/...
            try BridgeRule(.in, "cmd/#"),                               // MQTT cmd/... -> bus cmd/...
        ])
        // On SIGTERM or Ctrl-C: stop relaying, finish what is in flight, disconnect, shut the bus down.
        try await ServiceGroup(services: [bridge], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
        // END
    }
}
