import ServiceLifecycle
import VirtualBus
import VirtualBusMQTT

/// Publishes a temperature reading every 200 ms on `sensors/<name>/temp`.
struct SensorComponent: Service {
    let bus: VirtualBus
    let name: String
    let base: Double

    func run() async throws {
        let publisher = try bus.makePublisher()
        var step = 0.0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let reading = base + 3 * sin(step)
            try publisher.publish(topic: "sensors/\(name)/temp", payload: format1(reading))
            step += 0.7
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// Switches the fan when a command arrives on `cmd/fan` (from MQTT, through the bridge).
struct FanComponent: Service {
    let commands: BusSubscription

    init(bus: VirtualBus) async throws {
        commands = try await bus.subscribe(to: ["cmd/fan"])
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await command in commands {
                print("fan: switched \(command.payloadString) (\(command.topic))")
            }
        }
    }
}

/// Prints every message on the bus.
struct LoggerComponent: Service {
    let everything: BusSubscription

    init(bus: VirtualBus) async throws {
        everything = try await bus.subscribe(to: [""])
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await message in everything {
                print("logger: \(message.topic) = \(message.payloadString)")
            }
        }
    }
}

/// The "cloud" side: reads the bridged readings on the broker and sends fan commands back.
struct CloudController: Service {
    let client: MQTTClient
    let threshold: Double

    func run() async throws {
        try await client.waitUntilConnected()
        let readings = try await client.subscribe(to: ["demo/sensors/#"])
        await cancelWhenGracefulShutdown {
            var fanOn = false
            do {
                for try await reading in readings where reading.topic.name.hasPrefix("demo/sensors/boiler") {
                    guard let value = Double(String(decoding: reading.payload, as: UTF8.self)) else { continue }
                    if (value > threshold) != fanOn {
                        fanOn = value > threshold
                        print("cloud: \(reading.topic.name) = \(value) -> fan \(fanOn ? "on" : "off")")
                        _ = try? await client.publish(
                            topic: "demo/cmd/fan", string: fanOn ? "on" : "off", qos: .atLeastOnce)
                    }
                }
            } catch {
                print("cloud: subscription ended: \(error)")
            }
        }
    }
}

/// Ends the demo after a while (for --seconds).
struct StopAfter: Service {
    let duration: Duration
    func run() async throws {
        try? await Task.sleep(for: duration)
    }
}

private func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))"
}

private func sin(_ x: Double) -> Double {
    // A small Taylor series keeps the example free of Foundation.
    var x = x.truncatingRemainder(dividingBy: 2 * .pi)
    if x > .pi { x -= 2 * .pi }
    return x - x * x * x / 6 + x * x * x * x * x / 120 - x * x * x * x * x * x * x / 5040
}
