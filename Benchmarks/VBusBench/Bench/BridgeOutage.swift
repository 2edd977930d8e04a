import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

#if canImport(Glibc)
import Glibc
#endif

/// The bridge's memory while its broker is down under steady load: what waits for the broker is
/// bounded by the session's publish queue (`buffer` messages, drop-oldest), so RSS must stay flat;
/// afterwards every message taken from the bus is accounted for (acknowledged or dropped by policy).
enum BridgeOutage {
    static func run(seconds: Int, rate: Int, buffer: Int) async throws {
        let broker = try await BenchBroker.started()
        defer { BenchBroker.stop(broker) }
        let bus = try VirtualBus()
        var configuration = BridgeThroughput.configuration(port: broker.port, role: "outage")
        configuration.cleanStart = false
        configuration.sessionExpiry = 600
        configuration.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(500))
        configuration.publishQueueCapacity = buffer
        configuration.publishQueuePolicy = .dropOldest
        let bridge = MQTTBridge(
            bus: bus, mqtt: MQTTClient(configuration: configuration),
            rules: [try BridgeRule(.out, "load/#", qos: .atLeastOnce)])
        let group = ServiceGroup(services: [bridge], logger: Logger(label: "bench"))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        while !bridge.isRelaying {
            try await Task.sleep(for: .milliseconds(1))  // polling a flag before the load starts
        }
        let load = PacedPublisher(publisher: try bus.makePublisher(policy: .block(timeout: .seconds(5))), rate: rate)
        load.start()
        // Warm-up traffic with the broker up: a duration, not a synchronisation.
        try await Task.sleep(for: .seconds(2))
        let before = residentMemory()
        broker.kill()
        var samples: [Int] = []
        for _ in 0..<seconds {
            try await Task.sleep(for: .seconds(1))  // one RSS sample per second of outage
            samples.append(residentMemory())
        }
        let peak = samples.max() ?? before
        let during = residentMemory()
        try await broker.start()
        load.stop()
        let published = load.published
        let deadline = ContinuousClock.now + .seconds(60)
        var counters = bridge.statistics[0]
        while counters.forwardedOut < published
            || counters.acknowledgedOut + counters.failedOut.values.reduce(0, +) < counters.forwardedOut
        {
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(10))  // polling counters after the broker is back
            counters = bridge.statistics[0]
        }
        await group.triggerGracefulShutdown()
        try await running.value
        counters = bridge.statistics[0]
        let dropped = counters.failedOut.values.reduce(0, +)
        let unaccounted = published - counters.acknowledgedOut - dropped
        print(
            """
            outage \(seconds) s at \(rate) msgs/s (QoS 1, buffer \(buffer), drop oldest): RSS before \
            \(megabytes(before)) MiB, peak \(megabytes(peak)) MiB, at the end of the outage \(megabytes(during)) \
            MiB
            """
        )
        let everyFive = stride(from: 4, to: samples.count, by: 5).map { "\($0 + 1) s \(megabytes(samples[$0]))" }
        print("outage RSS (MiB) by second: \(everyFive.joined(separator: ", "))")
        print(
            """
            outage accounting: published \(published), acknowledged \(counters.acknowledgedOut), dropped \
            \(counters.failedOut), unaccounted \(unaccounted)
            """
        )
    }

    /// This process's resident set size in bytes (`VmRSS` in /proc/self/status).
    static func residentMemory() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }

    static func megabytes(_ bytes: Int) -> String { (Double(bytes) / 1_048_576).formatted(decimals: 1) }
}

/// A thread publishing 256 B messages on the bus at a steady rate until stopped.
private final class PacedPublisher: Sendable {
    private let publisher: BusPublisher
    private let rate: Int
    private let running = Atomic<Bool>(true)
    private let count = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)

    init(publisher: BusPublisher, rate: Int) {
        self.publisher = publisher
        self.rate = rate
    }

    var published: Int { count.load(ordering: .acquiring) }

    func start() {
        Thread { [self] in
            let payload = [UInt8](repeating: 0x62, count: 256)
            let start = ContinuousClock.now
            var sent = 0
            while running.load(ordering: .relaxed) {
                let due = Int((ContinuousClock.now - start).seconds * Double(rate))
                while sent < due {
                    // A refusal (the bus is full for five seconds) is the publisher's to count.
                    guard (try? publisher.publish(topic: "load/data", payload: payload)) != nil else { break }
                    sent += 1
                    count.store(sent, ordering: .releasing)
                }
                usleep(1_000)  // pacing the load, not synchronising
            }
            finished.signal()
        }.start()
    }

    /// Stops the load and waits for the thread's last publish.
    func stop() {
        running.store(false, ordering: .relaxed)
        finished.wait()
    }
}
