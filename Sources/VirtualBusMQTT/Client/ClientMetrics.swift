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
    private let counts = Mutex<(accepted: Int, acknowledged: Int, failed: [String: Int])>((0, 0, [:]))

    init(clientID: String, factory: (any MetricsFactory)? = nil) {
        let factory = factory ?? MetricsSystem.factory
        let dims = [("client_id", clientID)]
        self.factory = factory
        dimensions = dims
        queueDepth = Gauge(label: "mqtt_client_publish_queue_depth", dimensions: dims, factory: factory)
        inFlight = Gauge(label: "mqtt_client_publish_in_flight", dimensions: dims, factory: factory)
        inboundUnacknowledged = Gauge(label: "mqtt_client_inbound_unacknowledged", dimensions: dims, factory: factory)
        func drops(_ policy: String) -> CountingCounter {
            CountingCounter(Counter(label: "mqtt_client_subscription_drops_total", dimensions: dims + [("policy", policy)],
                                    factory: factory))
        }
        subscriptionDropsOldest = drops("dropOldest")
        subscriptionDropsNewest = drops("dropNewest")
        acceptedCounter = Counter(label: "mqtt_client_publishes_total", dimensions: dims + [("outcome", "accepted")], factory: factory)
        acknowledgedCounter = Counter(label: "mqtt_client_publishes_total", dimensions: dims + [("outcome", "acknowledged")],
                                      factory: factory)
    }

    /// The drop counter for a subscription buffer's policy.
    func subscriptionDrops(dropOldest: Bool) -> CountingCounter {
        dropOldest ? subscriptionDropsOldest : subscriptionDropsNewest
    }

    /// Subscription drops under every policy.
    var subscriptionDropTotal: Int { subscriptionDropsOldest.value + subscriptionDropsNewest.value }

    func accepted() {
        counts.withLock { $0.accepted += 1 }
        acceptedCounter.increment()
    }

    func outcome(_ result: Result<MQTTPublishResult, MQTTError>) {
        switch result {
        case .success:
            counts.withLock { $0.acknowledged += 1 }
            acknowledgedCounter.increment()
        case .failure(let error):
            let name = error.code.description
            counts.withLock { $0.failed[name, default: 0] += 1 }
            Counter(label: "mqtt_client_publishes_total", dimensions: dimensions + [("outcome", name)], factory: factory).increment()
        }
    }

    var snapshot: (accepted: Int, acknowledged: Int, failed: [String: Int]) { counts.withLock { $0 } }
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
