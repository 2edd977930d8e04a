internal import Metrics
import Synchronization

/// swift-metrics instruments plus the counters behind ``MQTTClientStatistics``.
///
/// Labels: `mqtt_client_publish_queue_depth` and `mqtt_client_publish_in_flight` (gauges),
/// `mqtt_client_publishes_total{outcome}` (accepted, acknowledged, or the failure code such as
/// droppedByPolicy / sessionLost / shutdown), `mqtt_client_subscription_drops_total`.
/// Every instrument carries a `client_id` dimension.
final class ClientMetrics: Sendable {
    let queueDepth: Gauge
    let inFlight: Gauge
    let subscriptionDrops: CountingCounter
    private let acceptedCounter: Counter
    private let acknowledgedCounter: Counter
    private let dimensions: [(String, String)]
    private let counts = Mutex<(accepted: Int, acknowledged: Int, failed: [String: Int])>((0, 0, [:]))

    init(clientID: String) {
        let dims = [("client_id", clientID)]
        dimensions = dims
        queueDepth = Gauge(label: "mqtt_client_publish_queue_depth", dimensions: dims)
        inFlight = Gauge(label: "mqtt_client_publish_in_flight", dimensions: dims)
        subscriptionDrops = CountingCounter(Counter(label: "mqtt_client_subscription_drops_total", dimensions: dims))
        acceptedCounter = Counter(label: "mqtt_client_publishes_total", dimensions: dims + [("outcome", "accepted")])
        acknowledgedCounter = Counter(label: "mqtt_client_publishes_total", dimensions: dims + [("outcome", "acknowledged")])
    }

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
            Counter(label: "mqtt_client_publishes_total", dimensions: dimensions + [("outcome", name)]).increment()
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
