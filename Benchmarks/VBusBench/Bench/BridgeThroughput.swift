import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// Our side of the bridge benchmark: bus -> bridge -> broker -> MQTT client, and the reverse,
/// timed like the libmosquitto anchor (from the first publish to the last delivery).
enum BridgeThroughput {
    enum Direction: String, CaseIterable {
        /// A bus publisher, the bridge, the broker, an MQTT subscriber.
        case out
        /// An MQTT publisher, the broker, the bridge, a bus subscriber.
        case `in`
    }

    /// MQTT 3.1.1 like the anchor; 20 QoS 1/2 publishes in flight, the anchor's window.
    static func configuration(port: Int, role: String) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: port, version: .v3_1_1,
            clientID: "bench-\(role)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        configuration.maxInFlight = 20
        return configuration
    }

    /// Messages per second through the bridge in `direction`.
    static func run(_ direction: Direction, port: Int, count: Int, size: Int, qos: MQTTQoS) async throws -> Double {
        let bus = try VirtualBus()
        var bridgeConfiguration = configuration(port: port, role: "bridge")
        bridgeConfiguration.subscriptionBufferCapacity = count + 1
        let bridge = MQTTBridge(
            bus: bus, mqtt: MQTTClient(configuration: bridgeConfiguration),
            rules: [
                try BridgeRule(direction == .out ? .out : .in, "bench/#", qos: qos)
            ])
        let group = ServiceGroup(services: [bridge], logger: Logger(label: "bench"))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        while !bridge.isRelaying {
            try await Task.sleep(for: .milliseconds(1))  // polling a flag before the clock starts
        }
        let seconds =
            switch direction {
            case .out: try await outbound(bus, port: port, count: count, size: size, qos: qos)
            case .in: try await inbound(bus, port: port, count: count, size: size, qos: qos)
            }
        await group.triggerGracefulShutdown()
        try await running.value
        return Double(count) / seconds
    }

    private static func outbound(_ bus: VirtualBus, port: Int, count: Int, size: Int, qos: MQTTQoS) async throws
        -> Double
    {
        var receiverConfiguration = configuration(port: port, role: "receiver")
        receiverConfiguration.subscriptionBufferCapacity = count + 1
        return try await MQTTClient.withConnection(configuration: receiverConfiguration) { receiver in
            let subscription = try await receiver.subscribe(to: ["bench/#"], options: MQTTSubscriptionOptions(qos: qos))
            let publisher = try bus.makePublisher(policy: .block(timeout: .seconds(30)))
            let payload = [UInt8](repeating: 0x61, count: size)
            let start = ContinuousClock.now
            let sending = Thread {
                for _ in 0..<count { try? publisher.publish(topic: "bench/data", payload: payload) }
            }
            sending.start()
            var received = 0
            for try await _ in subscription {
                received += 1
                if received == count { break }
            }
            guard received == count else { throw BenchFailure(description: "bridge out: got \(received) of \(count)") }
            return (ContinuousClock.now - start).seconds
        }
    }

    private static func inbound(_ bus: VirtualBus, port: Int, count: Int, size: Int, qos: MQTTQoS) async throws
        -> Double
    {
        var senderConfiguration = configuration(port: port, role: "sender")
        senderConfiguration.publishQueueCapacity = count + 1
        senderConfiguration.publishQueuePolicy = .failFast
        let subscription = try await bus.subscribe(to: ["bench/"], bufferCapacity: count + 1)
        return try await MQTTClient.withConnection(configuration: senderConfiguration) { sender in
            let payload = [UInt8](repeating: 0x61, count: size)
            let start = ContinuousClock.now
            var tickets: [MQTTPublishTicket] = []
            tickets.reserveCapacity(count)
            for _ in 0..<count {
                tickets.append(try sender.tryPublish(topic: "bench/data", payload: payload, qos: qos))
            }
            var received = 0
            for await _ in subscription {
                received += 1
                if received == count { break }
            }
            let seconds = (ContinuousClock.now - start).seconds
            guard received == count else { throw BenchFailure(description: "bridge in: got \(received) of \(count)") }
            for ticket in tickets { _ = try await ticket.result() }
            return seconds
        }
    }
}
