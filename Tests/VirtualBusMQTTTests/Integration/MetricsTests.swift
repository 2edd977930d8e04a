import BrokerLauncher
import MetricsTestKit
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// swift-metrics instruments, recorded with a factory injected into one client (no process-wide
/// `MetricsSystem.bootstrap`, which can run only once and would leak between parallel tests).
@Suite("Metrics", .timeLimit(.minutes(1)))
struct MetricsTests {
    func counter(_ metrics: TestMetrics, _ label: String, _ client: MQTTClient, _ extra: [(String, String)]) -> Int64 {
        let dims = [("client_id", client.configuration.clientID)] + extra
        return (try? metrics.expectCounter(label, dims).totalValue) ?? 0
    }

    func gauge(_ metrics: TestMetrics, _ label: String, _ client: MQTTClient) -> [Double] {
        (try? metrics.expectGauge(label, [("client_id", client.configuration.clientID)]).values) ?? []
    }

    @Test("publish outcomes per reason: accepted, acknowledged, queueFull, droppedByPolicy, shutdown")
    func publishOutcomes() async throws {
        let metrics = TestMetrics()
        var config = MQTTClientConfiguration(host: "127.0.0.1", port: 1, clientID: "metrics-outcomes")
        config.publishQueueCapacity = 2
        config.publishQueuePolicy = .dropNewest
        // Never run: everything stays queued until shutdown fails it.
        let client = MQTTClient(configuration: config, metricsFactory: metrics)
        for i in 0..<2 { _ = try client.tryPublish(topic: "m/t", payload: [UInt8(i)], qos: .atLeastOnce) }
        #expect(throws: MQTTError.self) { try client.tryPublish(topic: "m/t", payload: [9], qos: .atLeastOnce) }
        client.shutdown()
        let publishes = "mqtt_client_publishes_total"
        #expect(counter(metrics, publishes, client, [("outcome", "accepted")]) == 3)
        #expect(counter(metrics, publishes, client, [("outcome", "droppedByPolicy")]) == 1)
        #expect(counter(metrics, publishes, client, [("outcome", "shutdown")]) == 2)

        var failFast = config
        failFast.clientID = "metrics-failfast"
        failFast.publishQueuePolicy = .failFast
        let other = MQTTClient(configuration: failFast, metricsFactory: metrics)
        for i in 0..<3 { _ = try? other.tryPublish(topic: "m/t", payload: [UInt8(i)], qos: .atLeastOnce) }
        other.shutdown()
        #expect(counter(metrics, publishes, other, [("outcome", "queueFull")]) == 1)
    }

    @Test("queue depth, in-flight, inbound unacknowledged and subscription drops per policy, against mosquitto")
    func gaugesAndDrops() async throws {
        try await PrivateBroker.with { broker in
            let metrics = TestMetrics()
            var config = testConfiguration(broker, .v5, "metrics")
            config.subscriptionBufferCapacity = 2
            config.maxInFlight = 1
            let client = MQTTClient(configuration: config, metricsFactory: metrics)
            let task = try await startClient(client)
            let sub = try await client.subscribe(to: ["m/drop"], options: .init(qos: .atMostOnce))
            let manual = try await client.subscribe(
                to: ["m/manual"], options: .init(qos: .atLeastOnce), acknowledgement: .manual)

            // With one publish allowed in flight the rest queue: both gauges see more than zero.
            var tickets: [MQTTPublishTicket] = []
            for i in 0..<20 {
                tickets.append(try client.tryPublish(topic: "m/manual", payload: [UInt8(i)], qos: .atLeastOnce))
            }
            for t in tickets { _ = try await t.result() }
            #expect(gauge(metrics, "mqtt_client_publish_queue_depth", client).contains { $0 > 0 })
            #expect(gauge(metrics, "mqtt_client_publish_in_flight", client).contains { $0 == 1 })

            // Manual messages not yet acknowledged are visible as a gauge (recorded on each write).
            try await waitUntil("manual deliveries", within: .seconds(10)) { manual.bufferedCount == 20 }
            try await client.publish(topic: "m/other", payload: [], qos: .atLeastOnce)  // one more write
            #expect(gauge(metrics, "mqtt_client_inbound_unacknowledged", client).contains { $0 > 0 })

            for i in 0..<5 { try await client.publish(topic: "m/drop", payload: [UInt8(i)], qos: .atMostOnce) }
            try await waitUntil("drops counted", within: .seconds(10)) { sub.droppedCount == 3 }
            #expect(counter(metrics, "mqtt_client_subscription_drops_total", client, [("policy", "dropOldest")]) == 3)
            #expect(counter(metrics, "mqtt_client_publishes_total", client, [("outcome", "acknowledged")]) == 26)
            client.shutdown()
            try await task.value
        }
    }
}
