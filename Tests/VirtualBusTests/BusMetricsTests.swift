import MetricsTestKit
import Testing
import TestSupport
@testable import VirtualBus

/// The bus's swift-metrics instruments on a real libzmq bus, recorded with a factory injected
/// through ``BusConfiguration/metricsFactory`` (no process-wide `MetricsSystem.bootstrap`, which can
/// run only once and would leak between parallel tests).
@Suite("Bus metrics: counts equal the statistics, with the right dimensions", .timeLimit(.minutes(1)))
struct BusMetricsTests {
    private func bus(_ metrics: TestMetrics, _ configure: (inout BusConfiguration) -> Void = { _ in }) throws
        -> VirtualBus
    {
        var configuration = BusConfiguration()
        configuration.metricsFactory = metrics
        configure(&configuration)
        return try VirtualBus(configuration: configuration)
    }

    private func dimensions(_ bus: VirtualBus, _ subscription: BusSubscription) -> [(String, String)] {
        [("bus", bus.names.identity), ("subscription", String(subscription.handle.runLoop.id))]
    }

    private func dimensions(_ bus: VirtualBus, _ publisher: BusPublisher) -> [(String, String)] {
        [("bus", bus.names.identity), ("publisher", String(publisher.registration.id))]
    }

    /// A counter's total; 0 when it was never made (which the exact comparisons then catch).
    private func total(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)]) -> Int {
        Int((try? metrics.expectCounter(label, dimensions).totalValue) ?? 0)
    }

    private func lastGauge(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)]) -> Double? {
        try? metrics.expectGauge(label, dimensions).lastValue
    }

    @Test("100 published, 100 delivered: each counted once under its own bus, subscription and publisher")
    func deliveredAndPublished() async throws {
        let metrics = TestMetrics()
        let bus = try bus(metrics)
        let other = try self.bus(metrics)  // same factory: its counts must stay apart
        let subscription = try await bus.subscribe(to: ["m/"])
        let unmatched = try await bus.subscribe(to: ["elsewhere/"])
        let otherSubscription = try await other.subscribe(to: ["m/"])
        let publisher = try bus.makePublisher()
        let otherPublisher = try other.makePublisher()
        for index in 0..<100 { try publisher.publish(topic: "m/x", payload: "\(index)") }
        for index in 0..<7 { try otherPublisher.publish(topic: "m/x", payload: "\(index)") }
        #expect(try await subscription.first(100).count == 100)
        #expect(try await otherSubscription.first(7).count == 7)

        #expect(
            bus.endpoints.frontend.first == "inproc://\(bus.names.identity)-frontend",
            "the bus dimension is its endpoints' stem")
        #expect(bus.names.identity != other.names.identity)
        #expect(total(metrics, "vbus_subscription_delivered_total", dimensions(bus, subscription)) == 100)
        #expect(subscription.statistics.delivered == 100)
        #expect(total(metrics, "vbus_subscription_delivered_total", dimensions(bus, unmatched)) == 0)
        #expect(total(metrics, "vbus_subscription_delivered_total", dimensions(other, otherSubscription)) == 7)
        #expect(
            metrics.counterTotal(label: "vbus_subscription_delivered_total", dimensions: [("bus", bus.names.identity)])
                == 100)
        #expect(total(metrics, "vbus_publisher_published_total", dimensions(bus, publisher)) == 100)
        #expect(publisher.statistics.published == 100)
        #expect(total(metrics, "vbus_publisher_published_total", dimensions(other, otherPublisher)) == 7)
        #expect(total(metrics, "vbus_publisher_blocked_total", dimensions(bus, publisher)) == 0)
        #expect(
            metrics.counterTotal(label: "vbus_subscription_dropped_total", dimensions: [("bus", bus.names.identity)])
                == 0)
        // Everything was taken: the buffer's last recorded depth is empty.
        #expect(lastGauge(metrics, "vbus_subscription_buffered", dimensions(bus, subscription)) == 0)
        await bus.shutdown()
        await other.shutdown()
    }

    @Test(
        "an overflowing subscription: dropped{reason} equals its statistics, the gauge its depth",
        arguments: [
            BusSubscription.BufferPolicy.dropNewest, .dropOldest,
        ])
    func overflow(policy: BusSubscription.BufferPolicy) async throws {
        let metrics = TestMetrics()
        let bus = try bus(metrics)
        let subscription = try await bus.subscribe(to: ["m"], bufferCapacity: 10, bufferPolicy: policy)
        let publisher = try bus.makePublisher()
        for index in 0..<100 { try publisher.publish(topic: "m", payload: "\(index)") }
        try await waitUntil("all 100 accounted for") {
            let statistics = subscription.statistics
            return statistics.buffered + statistics.droppedBufferFull == 100
        }
        let dims = dimensions(bus, subscription)
        func dropped(_ reason: String) -> Int {
            total(metrics, "vbus_subscription_dropped_total", dims + [("reason", reason)])
        }
        #expect(subscription.statistics.droppedBufferFull == 90)
        #expect(dropped("bufferFull") == 90)
        #expect(
            dropped("malformed") + dropped("oversized") + dropped("invalidTopic") + dropped("discardedAtShutdown") == 0)
        #expect(lastGauge(metrics, "vbus_subscription_buffered", dims) == 10)
        #expect(total(metrics, "vbus_subscription_delivered_total", dims) == 0)

        // Ending the subscription discards what it still holds: counted under its own reason.
        subscription.cancel()
        #expect(subscription.statistics.discardedAtShutdown == 10)
        #expect(dropped("discardedAtShutdown") == 10)
        #expect(lastGauge(metrics, "vbus_subscription_buffered", dims) == 0)
        await bus.shutdown()
    }

    @Test(
        "at the high-water mark: refused and dropped by policy equal the statistics; only a blocking send counts a wait"
    )
    func publisherAtHighWaterMark() async throws {
        let metrics = TestMetrics()
        let bus = try bus(metrics) { $0.highWaterMark = 4 }
        let stalled = try await bus.subscribe(to: [""], bufferCapacity: 1)
        // Made before the bus stalls: a stalled proxy cannot accept new publishers.
        let failing = try bus.makePublisher(policy: .failFast)
        let dropping = try bus.makePublisher(policy: .drop)
        let blocking = try bus.makePublisher(policy: .block(timeout: .milliseconds(20)))
        var accepted = 0
        while try failing.tryPublish(topic: "fill", payload: "x") {
            accepted += 1
            try #require(accepted < 1_000_000, "the queues must fill")
        }
        #expect(throws: BusError.self) { try failing.publish(topic: "fill", payload: "x") }
        for _ in 0..<100 { try dropping.publish(topic: "fill", payload: "x") }
        #expect(throws: BusError.self) {
            for _ in 0..<100 { try blocking.publish(topic: "fill", payload: "x") }
        }

        for publisher in [failing, dropping, blocking] {
            let dims = dimensions(bus, publisher)
            let statistics = publisher.statistics
            #expect(total(metrics, "vbus_publisher_published_total", dims) == statistics.published)
            #expect(
                total(metrics, "vbus_publisher_failed_total", dims + [("reason", "highWaterMark")])
                    == statistics.refused)
            #expect(
                total(metrics, "vbus_publisher_failed_total", dims + [("reason", "droppedByPolicy")])
                    == statistics.dropped)
        }
        #expect(failing.statistics.refused == 2)
        #expect(dropping.statistics.dropped > 0)
        #expect(blocking.statistics.refused == 1)
        // Nothing drains a stalled bus: the blocking publisher waited once, in vain; the others never wait.
        #expect(total(metrics, "vbus_publisher_blocked_total", dimensions(bus, blocking)) == 1)
        #expect(total(metrics, "vbus_publisher_blocked_total", dimensions(bus, failing)) == 0)
        #expect(total(metrics, "vbus_publisher_blocked_total", dimensions(bus, dropping)) == 0)
        #expect(stalled.statistics.delivered == 0)
        #expect(await bus.shutdown().isComplete)
    }

    @Test("a publish that throws is counted by its error code: messageTooLarge, invalidTopic, shutDown")
    func publisherFailures() async throws {
        let metrics = TestMetrics()
        let bus = try bus(metrics) { $0.maximumMessageSize = 16 }
        let publisher = try bus.makePublisher()
        let dims = dimensions(bus, publisher)
        func failed(_ reason: String) -> Int {
            total(metrics, "vbus_publisher_failed_total", dims + [("reason", reason)])
        }
        #expect(throws: BusError.self) { try publisher.publish(topic: "t", payload: [UInt8](repeating: 0, count: 17)) }
        #expect(throws: BusError.self) { try publisher.tryPublish(topic: "", payload: "x") }
        #expect(throws: BusError.self) { try publisher.publish(topic: "bad\0topic", payload: "x") }
        try publisher.publish(topic: "t", payload: "fits")
        publisher.close()
        #expect(throws: BusError.self) { try publisher.publish(topic: "t", payload: "closed") }
        #expect(failed("messageTooLarge") == 1)
        #expect(failed("invalidTopic") == 2)
        #expect(failed("shutDown") == 1)
        #expect(failed("highWaterMark") == 0)
        #expect(total(metrics, "vbus_publisher_published_total", dims) == 1)
        await bus.shutdown()
    }

    @Test("proxy messages and bytes per direction equal BusStatistics at every read, never counted twice")
    func proxyTraffic() async throws {
        let metrics = TestMetrics()
        let bus = try bus(metrics)
        let subscription = try await bus.subscribe(to: ["p/"])
        let publisher = try bus.makePublisher()
        func expectEqual(_ statistics: BusStatistics) {
            let sides: [(String, BusStatistics.Traffic)] = [
                ("frontendReceived", statistics.frontendReceived), ("frontendSent", statistics.frontendSent),
                ("backendReceived", statistics.backendReceived), ("backendSent", statistics.backendSent),
            ]
            for (direction, traffic) in sides {
                let dims = [("bus", bus.names.identity), ("direction", direction)]
                #expect(
                    total(metrics, "vbus_proxy_messages_total", dims) == Int(traffic.messages), "\(direction) messages")
                #expect(total(metrics, "vbus_proxy_bytes_total", dims) == Int(traffic.bytes), "\(direction) bytes")
            }
        }
        for index in 0..<100 { try publisher.publish(topic: "p/x", payload: "\(index)") }
        #expect(try await subscription.first(100).count == 100)
        let first = try bus.statistics()
        #expect(first.backendSent.messages >= 100)
        expectEqual(first)

        for index in 0..<10 { try publisher.publish(topic: "p/y", payload: "\(index)") }
        #expect(try await subscription.first(10).count == 10)
        let second = try bus.statistics()
        #expect(second.backendSent.messages >= first.backendSent.messages + 10)
        expectEqual(second)
        expectEqual(try bus.statistics())  // a read with nothing new adds nothing
        await bus.shutdown()
    }
}
