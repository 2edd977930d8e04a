import BrokerLauncher
import ConcurrencyPrimitives
import Foundation
import MetricsTestKit
import Testing
import TestSupport
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// The bridge's swift-metrics instruments, recorded with a factory injected into one bridge, with
/// a real bus and a real mosquitto: per rule they equal ``MQTTBridge/statistics``, and the
/// connection and outage buffer gauges follow a broker that goes away and comes back.
@Suite("Bridge metrics against a real mosquitto", .timeLimit(.minutes(2)))
struct BridgeMetricsTests {
    static let versions: [MQTTProtocolVersion] = [.v5, .v3_1_1]

    /// A counter's total; 0 when it was never made (which the exact comparisons then catch).
    private func total(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)]) -> Int {
        Int((try? metrics.expectCounter(label, dimensions).totalValue) ?? 0)
    }

    private func gauge(_ metrics: TestMetrics, _ label: String, _ bridge: String) -> [Double] {
        (try? metrics.expectGauge(label, [("bridge", bridge)]).values) ?? []
    }

    /// Where the metrics differ from the statistics, rule by rule, field by field and reason by
    /// reason (empty: they are equal).
    private func mismatches(_ statistics: [BridgeRuleStatistics], _ metrics: TestMetrics, bridge: String) -> [String] {
        var found: [String] = []
        for (index, rule) in statistics.enumerated() {
            let dims = [("bridge", bridge), ("rule", String(index))]
            let fields: [(String, Int)] = [
                ("vbus_bridge_forwarded_out_total", rule.forwardedOut),
                ("vbus_bridge_acknowledged_out_total", rule.acknowledgedOut),
                ("vbus_bridge_forwarded_in_total", rule.forwardedIn),
                ("vbus_bridge_retained_in_total", rule.retainedIn),
                ("vbus_bridge_bus_full_waits_total", rule.busFullWaits),
                ("vbus_bridge_duplicates_in_total", rule.duplicatesIn),
                ("vbus_bridge_loops_prevented_total", rule.loopsPrevented),
            ]
            for (label, value) in fields where total(metrics, label, dims) != value {
                found.append("rule \(index) \(label): \(total(metrics, label, dims)), statistics \(value)")
            }
            for (label, byReason) in [
                ("vbus_bridge_failed_out_total", rule.failedOut), ("vbus_bridge_dropped_in_total", rule.droppedIn),
            ] {
                let counters = metrics.counters(label: label, dimensions: dims)
                let recorded = Dictionary(
                    uniqueKeysWithValues: counters.compactMap { counter in
                        counter.dimensions.first { $0.0 == "reason" }.map { ($0.1, Int(counter.totalValue)) }
                    })
                if recorded != byReason { found.append("rule \(index) \(label): \(recorded), statistics \(byReason)") }
            }
        }
        return found
    }

    @Test(
        "per rule: out, in, retained, dropped and failed by reason, loops prevented — equal to the statistics",
        arguments: versions)
    func perRule(version: MQTTProtocolVersion) async throws {
        let broker = try await PrivateBroker.started()
        defer { broker.stop() }
        let metrics = TestMetrics()
        let rules = [
            try BridgeRule(.out, "a/#", remotePrefix: "site/"),
            try BridgeRule(.in, "b/#", localPrefix: "local/", remotePrefix: "site/"),
            try BridgeRule(.both, "c/#"),
        ]
        var busConfiguration = BusConfiguration()
        busConfiguration.maximumMessageSize = 64
        let bridgeID = Locked("")
        let statistics = try await BridgeHarness.withBridge(
            BridgeHarness.configuration(broker, version), rules: rules, busConfiguration: busConfiguration,
            metrics: metrics
        ) { bus, bridge in
            bridgeID.withLock { $0 = bridge.id }
            let arrived = try await bus.subscribe(to: ["local/b/"])
            try await BridgeHarness.peer(broker, version) { peer in
                let publisher = try bus.makePublisher()
                for index in 0..<20 { try publisher.publish(topic: "a/\(index)", payload: "\(index)") }
                try publisher.publish(topic: "a/+", payload: "not an MQTT topic name")
                for index in 0..<5 { try publisher.publish(topic: "c/bus-\(index)", payload: "\(index)") }
                for index in 0..<10 {
                    try await peer.publish(
                        topic: try MQTTTopic("site/b/\(index)"), string: "\(index)", qos: .atLeastOnce)
                }
                for index in 0..<3 {
                    try await peer.publish(
                        topic: try MQTTTopic("site/b/retained/\(index)"), string: "\(index)", qos: .atLeastOnce,
                        retain: true)
                }
                try await peer.publish(
                    topic: "site/b/big", payload: [UInt8](repeating: 7, count: 100), qos: .atLeastOnce)
                for index in 0..<4 {
                    try await peer.publish(
                        topic: try MQTTTopic("c/peer-\(index)"), string: "\(index)", qos: .atLeastOnce)
                }

                // Rule 2 carries both ways: what it brings in comes back on its own bus subscription
                // (4), and a 3.1.1 broker also echoes what it sends out (5). A 3.1.1 broker keeps
                // the retain flag only on what it sends at subscription, not on live messages.
                let loops = version == .v5 ? 4 : 9
                let retained = version == .v5 ? 3 : 0
                try await waitUntil("every message accounted for: \(bridge.statistics)", within: .seconds(20)) {
                    let s = bridge.statistics
                    return s[0].acknowledgedOut == 20 && s[0].failedOut["invalidTopic"] == 1
                        && s[1].forwardedIn == 13 && s[1].retainedIn == retained
                        && s[1].droppedIn["messageTooLarge"] == 1
                        && s[2].acknowledgedOut == 5 && s[2].forwardedIn == 4 && s[2].loopsPrevented == loops
                }
                // While running, too (each update is recorded just after its lock is released).
                try await waitUntil(
                    """
                    metrics equal to the statistics while running: \
                    \(mismatches(bridge.statistics, metrics, bridge: bridge.id))
                    """,
                    within: .seconds(5)
                ) {
                    mismatches(bridge.statistics, metrics, bridge: bridge.id).isEmpty
                }
            }
            // What came in reached the bus (the retained ones through the last-value cache).
            try await waitUntil("13 on the bus", within: .seconds(5)) { arrived.statistics.buffered >= 13 }
        }
        let id = bridgeID.withLock { $0 }
        #expect(statistics[0].forwardedOut == 21)
        #expect(mismatches(statistics, metrics, bridge: id) == [])
        // Nothing is counted under another rule or another bridge.
        #expect(metrics.counterTotal(label: "vbus_bridge_forwarded_in_total") == 17)
        #expect(metrics.counters.allSatisfy { $0.dimensions.contains { $0 == ("bridge", id) } })
    }

    @Test("the connection gauge and events, and the outage buffer filling while the broker is away and draining after")
    func connectionAndOutageBuffer() async throws {
        let broker = try await PrivateBroker.started(persistence: true)
        defer { broker.stop() }
        let metrics = TestMetrics()
        let rule = try BridgeRule(.out, "data/#", remotePrefix: "site/")
        let bridgeID = Locked("")
        let statistics = try await BridgeHarness.withBridge(
            BridgeHarness.configuration(broker, .v5, persistent: true), rules: [rule], metrics: metrics
        ) { bus, bridge in
            let id = bridge.id
            bridgeID.withLock { $0 = id }
            func events(_ event: String) -> Int {
                total(metrics, "vbus_bridge_connection_events_total", [("bridge", id), ("event", event)])
            }
            try await waitUntil("connected recorded", within: .seconds(5)) {
                gauge(metrics, "vbus_bridge_connected", id).last == 1
            }
            #expect(events("connected") == 1)

            broker.kill(graceful: true)
            try await waitUntil("the loss recorded", within: .seconds(10)) {
                gauge(metrics, "vbus_bridge_connected", id).last == 0
            }
            #expect(events("connectionLost") == 1)
            let publisher = try bus.makePublisher()
            for index in 0..<30 { try publisher.publish(topic: "data/\(index)", payload: "\(index)") }
            try await waitUntil("30 held in the outage buffer", within: .seconds(10)) {
                gauge(metrics, "vbus_bridge_outage_buffer_depth", id).last == 30
            }
            #expect(bridge.statistics[0].forwardedOut == 30)
            // The session keeps trying while the broker is away.
            try await waitUntil("a failed reconnect recorded", within: .seconds(10)) { events("connectFailed") >= 1 }

            try await broker.start()
            try await waitUntil("all 30 acknowledged", within: .seconds(30)) {
                bridge.statistics[0].acknowledgedOut == 30
            }
            try await waitUntil("the outage buffer drained", within: .seconds(5)) {
                gauge(metrics, "vbus_bridge_outage_buffer_depth", id).last == 0
            }
            try await waitUntil("the reconnect recorded", within: .seconds(5)) {
                gauge(metrics, "vbus_bridge_connected", id).last == 1 && events("connected") == 2
            }
            #expect(events("connectionLost") == 1)
        }
        let id = bridgeID.withLock { $0 }
        let connected = gauge(metrics, "vbus_bridge_connected", id)
        #expect(connected.last == 0, "a bridge that has stopped is not connected")
        // One value per connection event (1 when connected, 0 when lost or failed), and the last 0 at the end.
        let events = ["connected", "connectionLost", "connectFailed"].map {
            total(metrics, "vbus_bridge_connection_events_total", [("bridge", id), ("event", $0)])
        }
        #expect(connected.count == events.reduce(1, +))
        #expect(connected.count { $0 == 1 } == events[0])
        #expect(gauge(metrics, "vbus_bridge_outage_buffer_depth", id).max() == 30)
        #expect(mismatches(statistics, metrics, bridge: id) == [])
        #expect(statistics[0].acknowledgedOut == 30)
    }
}
