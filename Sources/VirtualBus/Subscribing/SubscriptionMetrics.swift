import Metrics

/// One subscription's instruments (see ``BusMetrics`` for the labels), built once so that the
/// delivery path only increments.
///
/// Fed with the change in ``BusSubscription/Statistics`` across each event of the buffer, so the
/// counters always equal the statistics, whatever path (direct hand-over, take, shutdown) moved them.
final class SubscriptionMetrics: Sendable {
    private let delivered: Counter
    private let droppedBufferFull: Counter
    private let droppedMalformed: Counter
    private let droppedOversized: Counter
    private let droppedInvalidTopic: Counter
    private let discardedAtShutdown: Counter
    private let buffered: Gauge

    init(factory: any MetricsFactory, dimensions: [(String, String)]) {
        func dropped(_ reason: String) -> Counter {
            Counter(
                label: "vbus_subscription_dropped_total", dimensions: dimensions + [("reason", reason)],
                factory: factory)
        }
        delivered = Counter(label: "vbus_subscription_delivered_total", dimensions: dimensions, factory: factory)
        droppedBufferFull = dropped("bufferFull")
        droppedMalformed = dropped("malformed")
        droppedOversized = dropped("oversized")
        droppedInvalidTopic = dropped("invalidTopic")
        discardedAtShutdown = dropped("discardedAtShutdown")
        buffered = Gauge(label: "vbus_subscription_buffered", dimensions: dimensions, factory: factory)
    }

    /// The buffer's counters before and after one event, and its depth after it.
    struct Change {
        var before: BusSubscription.Statistics
        var after: BusSubscription.Statistics
        var buffered: Int
    }

    /// Records what one event changed, and the buffer's depth now.
    func record(_ change: Change) {
        let (before, after) = (change.before, change.after)
        Self.increment(delivered, after.delivered - before.delivered)
        Self.increment(droppedBufferFull, after.droppedBufferFull - before.droppedBufferFull)
        Self.increment(droppedMalformed, after.droppedMalformed - before.droppedMalformed)
        Self.increment(droppedOversized, after.droppedOversized - before.droppedOversized)
        Self.increment(droppedInvalidTopic, after.droppedInvalidTopic - before.droppedInvalidTopic)
        Self.increment(discardedAtShutdown, after.discardedAtShutdown - before.discardedAtShutdown)
        buffered.record(change.buffered)
    }

    /// Most events change one counter or none: skip the backend call for the rest.
    private static func increment(_ counter: Counter, _ amount: Int) {
        if amount > 0 { counter.increment(by: Int64(amount)) }
    }
}
