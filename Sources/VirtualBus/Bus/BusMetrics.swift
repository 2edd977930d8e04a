import Metrics

/// Where one bus's swift-metrics instruments come from, and the `bus` dimension they all carry.
///
/// Every instrument has a `bus` dimension: `vbus-<hex id>`, the stem of the bus's own `inproc://`
/// endpoints (a local bus's ``VirtualBus/Endpoints/frontend`` starts with
/// `inproc://vbus-<hex id>-frontend`). Labels:
///
/// - per subscription (dimension `subscription`, the subscription's id on its bus, counting from 1
///   in creation order): `vbus_subscription_delivered_total`,
///   `vbus_subscription_dropped_total{reason}` (`bufferFull`, `malformed`, `oversized`,
///   `invalidTopic`, `discardedAtShutdown`: the fields of ``BusSubscription/Statistics``) and the
///   gauge `vbus_subscription_buffered` (messages waiting in the buffer);
/// - per publisher (dimension `publisher`, its id on the bus, from the same sequence):
///   `vbus_publisher_published_total`, `vbus_publisher_blocked_total` (sends that found the queue
///   at its high-water mark and waited for room, ``PublishPolicy/block(timeout:)`` only) and
///   `vbus_publisher_failed_total{reason}` (`highWaterMark`: refused, as
///   ``BusPublisher/Statistics/refused``; `droppedByPolicy`: ``BusPublisher/Statistics/dropped``;
///   any other ``BusError/Code`` a publish threw, such as `messageTooLarge`, `invalidTopic`,
///   `shutDown`);
/// - the proxy: `vbus_proxy_messages_total{direction}` and `vbus_proxy_bytes_total{direction}`,
///   `direction` being `frontendReceived`, `frontendSent`, `backendReceived` or `backendSent` as in
///   ``BusStatistics``.
///
/// The factory is ``BusConfiguration/metricsFactory``, or the process-wide `MetricsSystem.factory`
/// (tests record with their own: `MetricsSystem.bootstrap` can run only once per process).
struct BusMetrics: Sendable {
    let factory: any MetricsFactory
    /// The `bus` dimension.
    let bus: String

    init(factory: (any MetricsFactory)?, bus: String) {
        self.factory = factory ?? MetricsSystem.factory
        self.bus = bus
    }

    func subscription(id: UInt64) -> SubscriptionMetrics {
        SubscriptionMetrics(factory: factory, dimensions: [("bus", bus), ("subscription", String(id))])
    }

    func publisher(id: UInt64) -> PublisherMetrics {
        PublisherMetrics(factory: factory, dimensions: [("bus", bus), ("publisher", String(id))])
    }

    func proxy() -> ProxyMetrics {
        ProxyMetrics(factory: factory, dimensions: [("bus", bus)])
    }
}
