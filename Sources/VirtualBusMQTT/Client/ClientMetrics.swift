import ConcurrencyPrimitives
internal import Metrics
import Synchronization

/// swift-metrics instruments plus the counters behind ``MQTTClientStatistics``.
///
/// Labels: `mqtt_client_publish_queue_depth`, `mqtt_client_publish_in_flight` and
/// `mqtt_client_inbound_unacknowledged` (gauges), `mqtt_client_publishes_total{outcome}`
/// (accepted, acknowledged, or the failure code such as droppedByPolicy / queueFull / sessionLost /
/// shutdown), `mqtt_client_subscription_drops_total{policy}`. Every instrument carries a
/// `client_id` dimension.
///
/// The factory is the process-wide `MetricsSystem.factory` unless one is injected (tests record
/// with their own factory; `MetricsSystem.bootstrap` can run only once per process).
final class ClientMetrics: Sendable {
    let queueDepth: Gauge
    let inFlight: Gauge
    let inboundUnacknowledged: Gauge
    private let subscriptionDropsOldest: CountingCounter
    private let subscriptionDropsNewest: CountingCounter
    private let acceptedCounter: Counter
    private let acknowledgedCounter: Counter
    private let dimensions: [(String, String)]
    private let factory: any MetricsFactory
    // Atomics for the per-message counts (no lock on the publish path); failures are rare.
    private let acceptedCount = Atomic<Int>(0)
    private let acknowledgedCount = Atomic<Int>(0)
    private let failedCounts = Locked<[String: Int]>([:])

    init(clientID: String, factory: (any MetricsFactory)? = nil) {
        let factory = factory ?? MetricsSystem.factory
        let dims = [("client_id", clientID)]
        self.factory = factory
        dimensions = dims
        queueDepth = Gauge(label: "mqtt_client_publish_queue_depth", dimensions: dims, factory: factory)
        inFlight = Gauge(label: "mqtt_client_publish_in_flight", dimensions: dims, factory: factory)
        inboundUnacknowledged = Gauge(label: "mqtt_client_inbound_unacknowledged", dimensions: dims, factory: factory)
        func drops(_ policy: String) -> CountingCounter {
            CountingCounter(
                Counter(
                    label: "mqtt_client_subscription_drops_total", dimensions: dims + [("policy", policy)],
                    factory: factory))
        }
        subscriptionDropsOldest = drops("dropOldest")
        subscriptionDropsNewest = drops("dropNewest")
        acceptedCounter = Counter(
            label: "mqtt_client_publishes_total", dimensions: dims + [("outcome", "accepted")], factory: factory)
        acknowledgedCounter = Counter(
            label: "mqtt_client_publishes_total", dimensions: dims + [("outcome", "acknowledged")],
            factory: factory)
    }

    /// The drop counter for a subscription buffer's policy.
    func subscriptionDrops(dropOldest: Bool) -> CountingCounter {
        dropOldest ? subscriptionDropsOldest : subscriptionDropsNewest
    }

    /// Subscription drops under every policy.
    var subscriptionDropTotal: Int { subscriptionDropsOldest.value + subscriptionDropsNewest.value }

    func accepted() {
        acceptedCount.add(1, ordering: .relaxed)
        acceptedCounter.increment()
    }

    func outcome(_ result: Result<MQTTPublishResult, MQTTError>) {
        switch result {
        case .success:
            acknowledgedCount.add(1, ordering: .relaxed)
            acknowledgedCounter.increment()
        case .failure(let error):
            let name = error.code.description
            failedCounts.withLock { $0[name, default: 0] += 1 }
            Counter(
                label: "mqtt_client_publishes_total", dimensions: dimensions + [("outcome", name)], factory: factory
            ).increment()
        }
    }

    /// Outcome counts; `failed` is read first, so accepted >= acknowledged + failed at any moment.
    var snapshot: (accepted: Int, acknowledged: Int, failed: [String: Int]) {
        let failed = failedCounts.withLock { $0 }
        let acknowledged = acknowledgedCount.load(ordering: .relaxed)
        return (acceptedCount.load(ordering: .relaxed), acknowledged, failed)
    }
}

/// A swift-metrics counter that also keeps its own total for snapshots.
final class CountingCounter: Sendable {
    private let counter: Counter
    private let total = Atomic<Int>(0)

    init(_ counter: Counter) { self.counter = counter }

    func increment() {
        total.add(1, ordering: .relaxed)
        counter.increment()
    }

    var value: Int { total.load(ordering: .relaxed) }
}
