import ConcurrencyPrimitives
import Metrics
import VirtualBusMQTT

/// One bridge's swift-metrics instruments, fed by ``BridgeCounters`` with the change of each
/// update, so they always equal ``MQTTBridge/statistics``.
///
/// Every instrument carries a `bridge` dimension (``MQTTBridge/id``). Per rule (dimension `rule`:
/// the rule's index in ``MQTTBridge/rules``, from 0), counters named after the fields of
/// ``BridgeRuleStatistics``: `vbus_bridge_forwarded_out_total`, `vbus_bridge_acknowledged_out_total`,
/// `vbus_bridge_failed_out_total{reason}` (the MQTT error code: `droppedByPolicy`, `queueFull`,
/// `sessionLost`, `shutdown`, ...), `vbus_bridge_forwarded_in_total`, `vbus_bridge_retained_in_total`,
/// `vbus_bridge_bus_full_waits_total`, `vbus_bridge_dropped_in_total{reason}` (the bus error code),
/// `vbus_bridge_duplicates_in_total` and `vbus_bridge_loops_prevented_total`.
///
/// Per bridge: the gauge `vbus_bridge_outage_buffer_depth` (publishes waiting in the MQTT
/// session's queue, recorded at each hand-over to the session and each outcome), the gauge
/// `vbus_bridge_connected` (1 while the broker has accepted the connection, else 0) and
/// `vbus_bridge_connection_events_total{event}`
/// (`connected`, `connectionLost`, `connectFailed`, as ``MQTTClientEvent`` names them).
///
/// The factory is the one given to ``MQTTBridge``'s initializer (`metricsFactory:`), or the
/// process-wide `MetricsSystem.factory`.
final class BridgeMetrics: Sendable {
    private let rules: [RuleInstruments]
    private let outageBufferDepth: Gauge
    private let connected: Gauge
    private let connectionEvents: [String: Counter]
    /// The MQTT session's publish queue depth now: the outage buffer.
    private let queueDepth: @Sendable () -> Int

    init(bridge: String, ruleCount: Int, factory: (any MetricsFactory)?, queueDepth: @escaping @Sendable () -> Int) {
        let factory = factory ?? MetricsSystem.factory
        let dimensions = [("bridge", bridge)]
        rules = (0..<ruleCount).map {
            RuleInstruments(factory: factory, dimensions: dimensions + [("rule", String($0))])
        }
        outageBufferDepth = Gauge(label: "vbus_bridge_outage_buffer_depth", dimensions: dimensions, factory: factory)
        connected = Gauge(label: "vbus_bridge_connected", dimensions: dimensions, factory: factory)
        connectionEvents = Dictionary(
            uniqueKeysWithValues: ["connected", "connectionLost", "connectFailed"].map { event in
                (
                    event,
                    Counter(
                        label: "vbus_bridge_connection_events_total", dimensions: dimensions + [("event", event)],
                        factory: factory)
                )
            })
        self.queueDepth = queueDepth
    }

    /// Records what one update of a rule's statistics changed.
    func record(rule: Int, from before: BridgeRuleStatistics, to after: BridgeRuleStatistics) {
        rules[rule].record(from: before, to: after)
        // The queue drains as flows complete (or fail): sampled then, it follows the drain
        // without a timer. It grows at each hand-over (``recordOutageBufferDepth()``).
        if after.acknowledgedOut != before.acknowledgedOut || after.failedOut != before.failedOut {
            recordOutageBufferDepth()
        }
    }

    /// Samples the outage buffer: called after each publish handed to the session, and on each outcome.
    func recordOutageBufferDepth() {
        outageBufferDepth.record(queueDepth())
    }

    /// Records a change of the MQTT session's connection.
    func record(_ event: MQTTClientEvent) {
        switch event {
        case .connected:
            connectionEvents["connected"]?.increment()
            connected.record(1)
        case .connectionLost:
            connectionEvents["connectionLost"]?.increment()
            connected.record(0)
        case .connectFailed:
            connectionEvents["connectFailed"]?.increment()
            connected.record(0)
        case .publishQueueOverflow:
            break  // counted per message in failed_out{reason="droppedByPolicy"}
        }
    }

    /// The session has ended: no longer connected.
    func recordSessionEnded() {
        connected.record(0)
    }
}

/// One rule's instruments; the counters by reason are made on first use (their reasons are an
/// open set) and kept.
private final class RuleInstruments: Sendable {
    let forwardedOut: Counter
    let acknowledgedOut: Counter
    let forwardedIn: Counter
    let retainedIn: Counter
    let busFullWaits: Counter
    let duplicatesIn: Counter
    let loopsPrevented: Counter
    private let failedOut: Locked<[String: Counter]> = Locked([:])
    private let droppedIn: Locked<[String: Counter]> = Locked([:])
    private let factory: any MetricsFactory
    private let dimensions: [(String, String)]

    init(factory: any MetricsFactory, dimensions: [(String, String)]) {
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dimensions, factory: factory) }
        forwardedOut = counter("vbus_bridge_forwarded_out_total")
        acknowledgedOut = counter("vbus_bridge_acknowledged_out_total")
        forwardedIn = counter("vbus_bridge_forwarded_in_total")
        retainedIn = counter("vbus_bridge_retained_in_total")
        busFullWaits = counter("vbus_bridge_bus_full_waits_total")
        duplicatesIn = counter("vbus_bridge_duplicates_in_total")
        loopsPrevented = counter("vbus_bridge_loops_prevented_total")
        self.factory = factory
        self.dimensions = dimensions
    }

    func record(from before: BridgeRuleStatistics, to after: BridgeRuleStatistics) {
        Self.increment(forwardedOut, after.forwardedOut - before.forwardedOut)
        Self.increment(acknowledgedOut, after.acknowledgedOut - before.acknowledgedOut)
        Self.increment(forwardedIn, after.forwardedIn - before.forwardedIn)
        Self.increment(retainedIn, after.retainedIn - before.retainedIn)
        Self.increment(busFullWaits, after.busFullWaits - before.busFullWaits)
        Self.increment(duplicatesIn, after.duplicatesIn - before.duplicatesIn)
        Self.increment(loopsPrevented, after.loopsPrevented - before.loopsPrevented)
        for (reason, count) in after.failedOut where count != before.failedOut[reason] {
            Self.increment(
                counter(failedOut, "vbus_bridge_failed_out_total", reason), count - before.failedOut[reason, default: 0]
            )
        }
        for (reason, count) in after.droppedIn where count != before.droppedIn[reason] {
            Self.increment(
                counter(droppedIn, "vbus_bridge_dropped_in_total", reason), count - before.droppedIn[reason, default: 0]
            )
        }
    }

    private func counter(_ counters: Locked<[String: Counter]>, _ label: String, _ reason: String) -> Counter {
        counters.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(label: label, dimensions: dimensions + [("reason", reason)], factory: factory)
            counters[reason] = counter
            return counter
        }
    }

    private static func increment(_ counter: Counter, _ amount: Int) {
        if amount > 0 { counter.increment(by: Int64(amount)) }
    }
}
