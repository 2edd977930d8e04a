import ServiceLifecycle
import VirtualBus

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
            try publisher.publish(topic: "sensors/\(name)/temp", payload: String(format1(reading)))
            step += 0.7
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// Turns readings into `cmd/fan` commands when a sensor crosses the threshold.
struct ControllerComponent: Service {
    let readings: BusSubscription
    let commands: BusPublisher
    let threshold: Double

    init(bus: VirtualBus, threshold: Double) async throws {
        readings = try await bus.subscribe(to: ["sensors/"])
        commands = try bus.makePublisher()
        self.threshold = threshold
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var fanOn = false
            for await reading in readings {
                guard let value = Double(reading.payloadString) else { continue }
                let wantOn = value > threshold
                if wantOn != fanOn {
                    fanOn = wantOn
                    try? commands.publish(topic: "cmd/fan", payload: wantOn ? "on" : "off")
                }
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
