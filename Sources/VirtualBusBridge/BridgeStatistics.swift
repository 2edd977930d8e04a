import ConcurrencyPrimitives
import VirtualBusMQTT

/// Counters of one bridge rule.
public struct BridgeRuleStatistics: Sendable, Hashable {
    /// Bus -> MQTT: messages handed to the MQTT session.
    public var forwardedOut = 0
    /// Bus -> MQTT: publishes whose QoS flow completed (written at QoS 0, acknowledged at 1 and 2).
    public var acknowledgedOut = 0
    /// Bus -> MQTT: publishes that failed, by reason (the MQTT error code: queueFull, sessionLost, shutdown, ...).
    public var failedOut: [String: Int] = [:]
    /// MQTT -> bus: messages published on the bus.
    public var forwardedIn = 0
    /// MQTT -> bus: of ``forwardedIn``, retained messages (kept in the bus-side last-value cache).
    public var retainedIn = 0
    /// MQTT -> bus: messages that had to wait for room on a full bus (their acknowledgement to
    /// the broker waited with them).
    public var busFullWaits = 0
    /// MQTT -> bus: messages the bus refused, by reason (the bus error code).
    public var droppedIn: [String: Int] = [:]
    /// MQTT -> bus: messages the broker marked as possible duplicates (DUP: sent again after a
    /// connection ended before our acknowledgement). Relayed like the others: the bus may see a
    /// QoS 1 message twice; a QoS 2 message acknowledged once is not sent again.
    public var duplicatesIn = 0
    /// Messages recognised as the bridge's own, coming back, and not relayed again.
    public var loopsPrevented = 0
}

/// The counters of every rule, behind one lock, mirrored into the bridge's metrics.
final class BridgeCounters: Sendable {
    private let rules: Locked<[BridgeRuleStatistics]>
    private let metrics: BridgeMetrics

    init(ruleCount: Int, metrics: BridgeMetrics) {
        rules = Locked(Array(repeating: BridgeRuleStatistics(), count: ruleCount))
        self.metrics = metrics
    }

    var snapshot: [BridgeRuleStatistics] { rules.withLock { $0 } }

    /// Applies `change` to one rule's counters. Every update comes through here, so the metrics are
    /// fed the difference it made (after the lock is released) and never drift from the statistics.
    func update(_ rule: Int, _ change: (inout BridgeRuleStatistics) -> Void) {
        let (before, after) = rules.withLock { rules in
            let before = rules[rule]
            change(&rules[rule])
            return (before, rules[rule])
        }
        metrics.record(rule: rule, from: before, to: after)
    }
}
