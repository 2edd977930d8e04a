import Metrics

/// One publisher's instruments (see ``BusMetrics`` for the labels), built once so that a publish
/// only increments a counter it already holds.
final class PublisherMetrics: Sendable {
    private let published: Counter
    private let blocked: Counter
    private let refused: Counter
    private let droppedByPolicy: Counter
    private let factory: any MetricsFactory
    private let dimensions: [(String, String)]

    init(factory: any MetricsFactory, dimensions: [(String, String)]) {
        self.factory = factory
        self.dimensions = dimensions
        published = Counter(label: "vbus_publisher_published_total", dimensions: dimensions, factory: factory)
        blocked = Counter(label: "vbus_publisher_blocked_total", dimensions: dimensions, factory: factory)
        refused = Self.failed(BusError.Code.highWaterMark.description, factory, dimensions)
        droppedByPolicy = Self.failed("droppedByPolicy", factory, dimensions)
    }

    /// libzmq accepted a message (``BusPublisher/Statistics/published``).
    func recordPublished() { published.increment() }

    /// A send found the queue at its high-water mark and waits for room.
    func recordBlocked() { blocked.increment() }

    /// The high-water mark refused a message (``BusPublisher/Statistics/refused``).
    func recordRefused() { refused.increment() }

    /// The drop policy discarded a message (``BusPublisher/Statistics/dropped``).
    func recordDropped() { droppedByPolicy.increment() }

    /// A publish threw before reaching libzmq's queue, or libzmq failed it (rare: the counter is
    /// made on demand; a refusal at the high-water mark is ``recordRefused()``'s, not counted here).
    func recordFailure(_ code: BusError.Code) {
        guard code != .highWaterMark else { return }
        Self.failed(code.description, factory, dimensions).increment()
    }

    private static func failed(_ reason: String, _ factory: any MetricsFactory, _ dimensions: [(String, String)])
        -> Counter
    {
        Counter(label: "vbus_publisher_failed_total", dimensions: dimensions + [("reason", reason)], factory: factory)
    }
}
