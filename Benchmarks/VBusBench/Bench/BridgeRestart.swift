import Foundation
import Logging
import ProcessSpawning
import ServiceLifecycle
import Synchronization
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// The bridge across broker restarts, as `vbus bridge --out` runs it (clean start, the default
/// reconnect policy): mosquitto with persistence is stopped (SIGTERM) and started again on the
/// same port and data directory with publishes in flight; an independent paho-mqtt subscriber
/// (persistent session) counts what was lost and what came twice. Time to recover is from the
/// broker listening again to the bridge's CONNACK.
enum BridgeRestart {
    struct Outcome {
        var summary: String
        var failed: Int
        var recoveries: [Duration]
    }

    static func run(version: MQTTProtocolVersion, qos: MQTTQoS, restarts: Int, perRound: Int, rate: Int, peers: String)
        async throws -> Outcome
    {
        let broker = try await BenchBroker.started(persistence: true)
        defer { BenchBroker.stop(broker) }
        let total = restarts * perRound
        let subscriber = try LineReadingProcess(
            "/usr/bin/env",
            [
                "python3", "\(peers)/paho_counting_subscriber.py", "\(broker.port)", version == .v5 ? "5" : "3.1.1",
                "\(qos.rawValue)", "bench-counter-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", "sensors",
                "\(total)",
            ])
        defer { subscriber.terminate() }
        _ = try await subscriber.line(within: .seconds(20)) { $0 == "subscribed" }

        let bus = try VirtualBus()
        var logger = Logger(label: "bench")
        logger.logLevel = .warning  // as vbus bridge: the restarts are reported by the table, not per attempt
        let mqtt = MQTTClient(
            configuration: {
                var configuration = MQTTClientConfiguration(
                    host: "127.0.0.1", port: broker.port, version: version, clientID: "bench-restart-\(getpid())")
                configuration.reconnect = MQTTReconnectPolicy()
                return configuration
            }(), logger: logger)
        let reconnects = Mutex<[ContinuousClock.Instant]>([])
        let events = mqtt.events()
        let watching = Task {
            for await event in events {
                if case .connected(_, .some, _) = event { reconnects.withLock { $0.append(.now) } }
            }
        }
        let bridge = MQTTBridge(
            bus: bus, mqtt: mqtt, rules: [try BridgeRule(.out, "sensors/#", qos: qos)], logger: logger)
        let group = ServiceGroup(services: [bridge], logger: Logger(label: "bench"))
        let running = Task { try await group.run() }
        while !bridge.isRelaying {
            try await Task.sleep(for: .milliseconds(1))  // polling a flag before the load starts
        }
        let publisher = try bus.makePublisher(policy: .block(timeout: .seconds(30)))
        var next = 0
        func publish(_ count: Int) async throws {
            for _ in 0..<count {
                try publisher.publish(topic: "sensors/\(next)", payload: "\(next)")
                next += 1
                if next % 20 == 0 { try await Task.sleep(for: .milliseconds(20_000 / rate)) }  // pacing the load
            }
        }
        var brokerBack: [ContinuousClock.Instant] = []
        for _ in 0..<restarts {
            try await publish(perRound / 2)
            broker.kill(graceful: true)
            try await publish(perRound - perRound / 2)  // while the broker is down: the outage buffer
            try await broker.start()
            brokerBack.append(.now)
            let expected = brokerBack.count
            let deadline = ContinuousClock.now + .seconds(60)
            while reconnects.withLock({ $0.count }) < expected && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))  // polling for the reconnect event
            }
        }
        try publisher.publish(topic: "sensors/end", payload: "")
        let summary = try await subscriber.line(within: .seconds(120)) { $0.hasPrefix("summary") }
        await group.triggerGracefulShutdown()
        try await running.value
        watching.cancel()
        let back = reconnects.withLock { $0 }
        let failed = bridge.statistics[0].failedOut.values.reduce(0, +)
        return Outcome(summary: summary, failed: failed, recoveries: zip(brokerBack, back).map { $1 - $0 })
    }
}

/// A child process whose output lines are read on a thread as they come (spawned with
/// ``SpawnedProcess``: see ``ExternalProgram/run(_:_:environment:timeout:)`` for why not `Process`).
final class LineReadingProcess: Sendable {
    private let process: SpawnedProcess
    private let name: String
    private let lines = Mutex<[String]>([])

    init(_ executable: String, _ arguments: [String]) throws {
        let process = try SpawnedProcess(executable: executable, arguments: arguments)
        self.process = process
        name = executable
        Thread { [self] in
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(process.standardOutput!, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending += chunk[0..<count]
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    lines.withLock { $0.append(line) }
                }
            }
        }.start()
    }

    /// The first line so far or within `limit` that satisfies `predicate`.
    func line(within limit: Duration, where predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let line = lines.withLock({ $0.first(where: predicate) }) { return line }
            try await Task.sleep(for: .milliseconds(5))  // polling the collected output
        }
        throw BenchFailure(
            description: "\(name) printed no expected line within \(limit): \(lines.withLock { $0.suffix(5) })")
    }

    func terminate() { process.send(SIGTERM) }
}
