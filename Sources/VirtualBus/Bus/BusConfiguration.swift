public import Metrics

/// How a ``VirtualBus`` is set up: extra endpoints, queue bounds, limits and shutdown timing.
///
/// Every queue has a stated bound here, and every policy that can lose a message counts what it
/// loses (see ``BusSubscription/Statistics`` and ``BusPublisher/Statistics``).
public struct BusConfiguration: Sendable {
    /// Extra endpoints where publishers in other processes connect (the proxy's XSUB side).
    /// The in-process endpoint is always bound.
    public var frontendBinds: [BusEndpoint] = []
    /// Extra endpoints where subscribers in other processes connect (the proxy's XPUB side).
    public var backendBinds: [BusEndpoint] = []

    /// The high-water mark of every libzmq queue the bus creates, in messages. Publishers and the
    /// proxy never drop at this mark: they wait (see ``PublishPolicy``), so any loss is visible.
    public var highWaterMark: Int32 = 100_000

    /// The largest payload accepted, in bytes. Larger messages are refused by publishers, dropped and
    /// counted by subscribers, and disconnect tcp/ipc peers that send them.
    public var maximumMessageSize: Int = 16 * 1024 * 1024

    /// What publishers do when their queue is at the high-water mark, unless one asks otherwise.
    public var publishPolicy: PublishPolicy = .block(timeout: .seconds(5))

    /// How long a closed socket keeps trying to send what it still holds (publishers towards a
    /// tcp/ipc peer, mostly): the context's termination waits up to this long, within the shutdown
    /// deadline. Zero discards unsent messages at once.
    public var linger: Duration = .seconds(1)

    /// How long ``VirtualBus/subscribe(to:bufferCapacity:bufferPolicy:)`` waits for the subscription
    /// to reach the proxy.
    public var subscribeTimeout: Duration = .seconds(5)

    /// How many messages a subscriber run loop hands to its consumer at once, at most.
    public var deliveryBatchSize: Int = 1024

    /// libzmq I/O threads (used by ipc and tcp endpoints only).
    public var ioThreads: Int32 = 1

    /// Where the bus answers remote control requests (`vbus stats --control`), e.g.
    /// `tcp://127.0.0.1:5557` or an `ipc://` path; `nil` (default): nowhere.
    public var controlBind: BusEndpoint?

    /// CURVE security for the extra tcp/ipc endpoints this bus binds (`nil`: none).
    public var curveServer: CurveServerSecurity?

    /// CURVE keys used when this bus connects to a remote one over tcp/ipc
    /// (``VirtualBus/connect(frontend:backend:configuration:)``).
    public var curveClient: CurveClientSecurity?

    /// Where the bus's swift-metrics instruments come from (see <doc:Backpressure> for their
    /// labels and dimensions); `nil` (default): `MetricsSystem.factory` as it is when the bus is
    /// created. Tests inject their own, since `MetricsSystem.bootstrap` can run only once per process.
    public var metricsFactory: (any MetricsFactory)?

    /// Test-only: the shutdown order (see ``ShutdownOrder``). Not public: users cannot pick the
    /// wrong order.
    package var shutdownOrder: ShutdownOrder = .ordered

    /// A configuration with the in-process endpoint only.
    public init() {}

    /// A configuration with extra endpoints (the in-process ones are always bound).
    public init(frontendBinds: [BusEndpoint], backendBinds: [BusEndpoint]) {
        self.frontendBinds = frontendBinds
        self.backendBinds = backendBinds
    }

    func validate() throws(BusError) {
        guard highWaterMark > 0 else {
            throw BusError(.invalidConfiguration, "highWaterMark must be positive, got \(highWaterMark)")
        }
        guard maximumMessageSize > 0 else {
            throw BusError(.invalidConfiguration, "maximumMessageSize must be positive, got \(maximumMessageSize)")
        }
        guard deliveryBatchSize > 0 else {
            throw BusError(.invalidConfiguration, "deliveryBatchSize must be positive, got \(deliveryBatchSize)")
        }
        guard ioThreads >= 0, linger >= .zero, subscribeTimeout > .zero else {
            throw BusError(.invalidConfiguration, "ioThreads, linger and subscribeTimeout must not be negative")
        }
        if let curveServer {
            try CurveKeyPair.requireCurve()
            for key in curveServer.allowedClientKeys { try CurveKeyPair.validatePublicKey(key) }
        }
        if let curveClient { try CurveKeyPair.validatePublicKey(curveClient.serverPublicKey) }
    }

    var lingerMilliseconds: Int32 { Int32(clamping: linger.milliseconds) }
}

/// What a publisher does when its queue is at the high-water mark.
public enum PublishPolicy: Sendable, Hashable {
    /// Wait up to `timeout` for room, then throw ``BusError/Code/highWaterMark``.
    case block(timeout: Duration)
    /// Throw ``BusError/Code/highWaterMark`` at once.
    case failFast
    /// Drop the message, count it in ``BusPublisher/Statistics/dropped``, and return.
    case drop
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
