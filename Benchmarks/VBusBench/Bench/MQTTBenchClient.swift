import Foundation
import Synchronization
import VirtualBusMQTT

/// Our client's side of `vbus-bench mqtt`.
enum MQTTBenchClient {
    static func configuration(_ host: String, _ port: Int, _ role: String) -> MQTTClientConfiguration {
        MQTTClientConfiguration(
            host: host, port: port, version: .v3_1_1,
            clientID: "ours-\(role)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// The anchors' topic shape (`bench/c/PID`, `bench/py/PID`): the broker splits and looks up
    /// every level of every message, so a longer topic would measure the broker, not the client.
    /// Runs in one process follow one another, and each subscribes on a fresh connection.
    private static func benchTopic() throws -> MQTTTopic { try MQTTTopic("bench/o/\(getpid())") }

    /// Publisher -> broker -> subscriber; msgs/s from the first publish to the last delivery.
    static func throughput(host: String, port: Int, count: Int, size: Int, qos: Int, inflight: Int) async throws
        -> Double
    {
        var subConfig = configuration(host, port, "sub")
        subConfig.subscriptionBufferCapacity = count + 1
        var pubConfig = configuration(host, port, "pub")
        pubConfig.maxInFlight = inflight
        pubConfig.publishQueueCapacity = count + 1
        pubConfig.publishQueuePolicy = .failFast
        let level = MQTTQoS(rawValue: UInt8(qos))!
        let topic = try benchTopic()
        let sub = MQTTClient(configuration: subConfig)
        let pub = MQTTClient(configuration: pubConfig)
        let subTask = Task { try await sub.run() }
        let pubTask = Task { try await pub.run() }
        defer {
            sub.shutdown()
            pub.shutdown()
        }
        try await sub.waitUntilConnected()
        try await pub.waitUntilConnected()
        let subscription = try await sub.subscribe(
            to: [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: level))
        let progress = Atomic<Int>(0)
        let payload = [UInt8](repeating: 0x61, count: size)
        let start = ContinuousClock.now
        let receiver = Task { () throws -> ContinuousClock.Instant in
            var got = 0
            for try await message in subscription {
                guard message.payload.count == size else { throw BenchFailure(description: "malformed delivery") }
                got += 1
                progress.store(got, ordering: .relaxed)
                if got == count { return .now }
            }
            throw BenchFailure(description: "subscription ended after \(got) of \(count)")
        }
        var tickets: [MQTTPublishTicket] = []
        tickets.reserveCapacity(count)
        for _ in 0..<count { tickets.append(try pub.tryPublish(topic: topic, payload: payload, qos: level)) }
        try await watch(progress, until: count, qos: qos, receiver: receiver)
        let end = try await receiver.value
        for t in tickets { _ = try await t.result() }  // every publish acknowledged before we stop
        sub.shutdown()
        pub.shutdown()
        _ = try? await subTask.value
        _ = try? await pubTask.value
        return Double(count) / (end - start).seconds
    }

    /// Watchdog: 10 s without progress is a lost message.
    private static func watch(
        _ progress: borrowing Atomic<Int>, until count: Int, qos: Int,
        receiver: Task<ContinuousClock.Instant, any Error>
    ) async throws {
        var last = -1
        var lastChange = ContinuousClock.now
        while progress.load(ordering: .relaxed) < count {
            let now = progress.load(ordering: .relaxed)
            if now != last {
                last = now
                lastChange = .now
            } else if ContinuousClock.now - lastChange > .seconds(10) {
                receiver.cancel()
                throw BenchFailure(description: "ours qos\(qos): LOST messages: got \(now) of \(count)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// One client subscribed to its own topic: publish, wait for the delivery, repeat.
    static func latency(host: String, port: Int, count: Int, size: Int, qos: Int) async throws -> (
        p50: Double, p99: Double
    ) {
        let level = MQTTQoS(rawValue: UInt8(qos))!
        let client = MQTTClient(configuration: configuration(host, port, "lat"))
        let task = Task { try await client.run() }
        defer { client.shutdown() }
        try await client.waitUntilConnected()
        let topic = try benchTopic()
        let subscription = try await client.subscribe(
            to: [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: level))
        var iterator = subscription.makeAsyncIterator()
        let payload = [UInt8](repeating: 0x61, count: size)
        var samples: [Double] = []
        let warmup = min(1_000, count)
        for i in 0..<(count + warmup) {
            let t0 = ContinuousClock.now
            _ = try client.tryPublish(topic: topic, payload: payload, qos: level)
            guard try await iterator.next() != nil else { throw BenchFailure(description: "subscription ended") }
            if i >= warmup { samples.append((ContinuousClock.now - t0).seconds * 1e6) }
        }
        client.shutdown()
        _ = try? await task.value
        samples.sort()
        return (samples[samples.count / 2], samples[min(samples.count - 1, samples.count * 99 / 100)])
    }
}
