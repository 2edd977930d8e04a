import Testing
import TestSupport
@testable import VirtualBus

@Suite("Bounded buffers and high-water marks: stated policies, exact counts", .timeLimit(.minutes(1)))
struct BackpressureTests {
    /// Publishes `count` messages and waits until the subscription has accounted for all of them.
    private func flood(_ bus: VirtualBus, _ subscription: BusSubscription, count: Int) async throws {
        let publisher = try bus.makePublisher()
        for index in 0..<count { try publisher.publish(topic: "m", payload: "\(index)") }
        try await waitUntil("all \(count) accounted for") {
            let statistics = subscription.statistics
            return statistics.buffered + statistics.droppedBufferFull + statistics.delivered == count
        }
    }

    @Test("dropNewest keeps the first messages and counts the rest exactly")
    func dropNewest() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["m"], bufferCapacity: 10, bufferPolicy: .dropNewest)
        try await flood(bus, subscription, count: 100)
        #expect(subscription.statistics.droppedBufferFull == 90)
        #expect(try await subscription.first(10).map(\.payloadString) == (0..<10).map(String.init))
        await bus.shutdown()
    }

    @Test("dropOldest keeps the latest messages and counts the rest exactly")
    func dropOldest() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["m"], bufferCapacity: 10, bufferPolicy: .dropOldest)
        try await flood(bus, subscription, count: 100)
        #expect(subscription.statistics.droppedBufferFull == 90)
        #expect(try await subscription.first(10).map(\.payloadString) == (90..<100).map(String.init))
        await bus.shutdown()
    }

    @Test("backpressure loses nothing: a tiny buffer still delivers every message in order")
    func backpressureLossless() async throws {
        var configuration = BusConfiguration()
        configuration.highWaterMark = 16
        let bus = try VirtualBus(configuration: configuration)
        let subscription = try await bus.subscribe(to: ["m"], bufferCapacity: 4, bufferPolicy: .backpressure)
        let publisher = try bus.makePublisher(policy: .block(timeout: .seconds(10)))
        let count = 20_000
        async let produced: Void = onDedicatedThread {
            for index in 0..<count { try publisher.publish(topic: "m", payload: "\(index)") }
        }
        let received = try await subscription.first(count, within: .seconds(30))
        try await produced
        #expect(received.map(\.payloadString) == (0..<count).map(String.init))
        #expect(subscription.statistics.dropped == 0)
        await bus.shutdown()
    }

    @Test(
        "backpressure holds at most the buffer's capacity, even when a burst is queued before the first read",
        arguments: [1, 4])
    func backpressureBound(capacity: Int) async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["m"], bufferCapacity: capacity, bufferPolicy: .backpressure)
        // The burst piles up behind the paused proxy, then reaches the subscriber all at once: its
        // run loop's first read finds many messages queued, and must still take only `capacity`.
        try bus.pause()
        _ = try bus.statistics()  // answered after the pause: the proxy handles its commands in order
        let publisher = try bus.makePublisher()
        let count = 500
        for index in 0..<count { try publisher.publish(topic: "m", payload: "\(index)") }
        try bus.resume()
        try await waitUntil("a full buffer") { subscription.statistics.buffered >= capacity }
        // Reading pauses once the buffer is full; nothing more is read until the consumer takes.
        #expect(subscription.statistics.buffered == capacity)
        var received: [String] = []
        for await message in subscription {
            #expect(subscription.statistics.buffered <= capacity)
            received.append(message.payloadString)
            if received.count == count { break }
        }
        #expect(received == (0..<count).map(String.init))
        await bus.shutdown()
    }

    @Test("at the high-water mark: tryPublish returns false, failFast throws, drop counts, block times out")
    func publisherPolicies() async throws {
        var configuration = BusConfiguration()
        configuration.highWaterMark = 4
        let bus = try VirtualBus(configuration: configuration)
        let stalled = try await bus.subscribe(to: [""], bufferCapacity: 1)
        // Made before the bus stalls: a stalled proxy cannot accept new publishers.
        let publisher = try bus.makePublisher(policy: .failFast)
        let dropping = try bus.makePublisher(policy: .drop)
        let blocking = try bus.makePublisher(policy: .block(timeout: .milliseconds(20)))
        var accepted = 0
        while try publisher.tryPublish(topic: "fill", payload: "x") {
            accepted += 1
            try #require(accepted < 1_000_000, "the queues must fill")
        }
        #expect(publisher.statistics.refused == 1)
        #expect(throws: BusError(.highWaterMark, "the bus queue is full")) {
            try publisher.publish(topic: "fill", payload: "x")
        }

        // A fresh publisher has its own empty pipe; fill it, then every further message is dropped.
        for _ in 0..<100 { try dropping.publish(topic: "fill", payload: "x") }
        #expect(dropping.statistics.dropped > 0)
        #expect(dropping.statistics.published + dropping.statistics.dropped == 100)

        #expect(throws: BusError.self) {
            for _ in 0..<100 { try blocking.publish(topic: "fill", payload: "x") }
        }
        #expect(stalled.statistics.delivered == 0)
        #expect(stalled.statistics.buffered <= 1, "the subscription holds no more than its capacity")
        #expect(await bus.shutdown().isComplete)
    }
}
