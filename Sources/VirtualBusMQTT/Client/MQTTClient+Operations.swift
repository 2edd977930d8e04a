import ConcurrencyPrimitives
internal import NIOCore

extension MQTTClient {
    /// Publishes and returns when the QoS flow completes: QoS 0 when written, QoS 1 on PUBACK,
    /// QoS 2 on PUBCOMP, with the broker's reason code.
    ///
    /// While the send window is full or the client is not connected the message waits in the
    /// bounded publish queue; when the queue is full ``MQTTClientConfiguration/publishQueuePolicy``
    /// decides. The wait for the outcome is not abandoned on task cancellation: an accepted
    /// publish always reaches its one outcome, at the latest when the client shuts down.
    /// - Throws: ``MQTTError`` — `queueFull`, `droppedByPolicy`, `timeout`, `sessionLost`,
    ///   `shutdown`, `packetTooLarge`, `invalidProperty`, or `brokerRejected` with the broker's failure reason code.
    @discardableResult
    public func publish(
        topic: MQTTTopic, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
        properties: MQTTProperties = []
    ) async throws(MQTTError) -> MQTTPublishResult {
        try await core.publish(
            PublishPacket(
                topic: topic.name, payload: ByteBuffer(bytes: payload), qos: qos, retain: retain,
                properties: configuration.version == .v5 ? properties : []))
    }

    /// Publishes a UTF-8 string payload; see ``publish(topic:payload:qos:retain:properties:)``.
    @discardableResult
    public func publish(
        topic: MQTTTopic, string: String, qos: MQTTQoS = .atMostOnce, retain: Bool = false,
        properties: MQTTProperties = []
    ) async throws(MQTTError) -> MQTTPublishResult {
        try await publish(topic: topic, payload: Array(string.utf8), qos: qos, retain: retain, properties: properties)
    }

    /// Accepts a publish without ever waiting: it is sent or queued, or this throws at once with
    /// the reason (`queueFull` under fail-fast and wait policies, `droppedByPolicy` under drop
    /// newest, `shutdown`, `packetTooLarge`, `invalidProperty`). The returned ticket reports the final outcome.
    @discardableResult
    public func tryPublish(
        topic: MQTTTopic, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
        properties: MQTTProperties = []
    ) throws(MQTTError) -> MQTTPublishTicket {
        let waiter = core.enqueue(
            PublishPacket(
                topic: topic.name, payload: ByteBuffer(bytes: payload), qos: qos, retain: retain,
                properties: configuration.version == .v5 ? properties : []))
        if case .failure(let error) = waiter.result { throw error }
        return MQTTPublishTicket(waiter: waiter)
    }

    /// Subscribes to `filters` and returns once the broker acknowledged them.
    ///
    /// Overlapping local subscriptions share one broker subscription: SUBSCRIBE is sent only for
    /// filters not yet held at this QoS, and UNSUBSCRIBE only when the last local user ends.
    ///
    /// With `acknowledgement: .manual` the broker's PUBACK / PUBREC for a QoS 1/2 message waits
    /// until you call ``MQTTMessage/acknowledge()`` (see ``MQTTAcknowledgementMode/manual``).
    /// - Throws: ``MQTTError`` — `brokerRejected` with the SUBACK reason code, `sessionLost`, `shutdown`.
    public func subscribe(
        to filters: [MQTTTopicFilter], options: MQTTSubscriptionOptions = MQTTSubscriptionOptions(qos: .atLeastOnce),
        acknowledgement: MQTTAcknowledgementMode = .automatic
    )
        async throws(MQTTError) -> MQTTSubscription
    {
        precondition(!filters.isEmpty, "subscribe(to:) needs at least one filter")
        return try await core.subscribe(filters, options: options, acknowledgement: acknowledgement)
    }

    /// Registers a subscription at once and returns without waiting for the broker: messages that
    /// match it are routed to it from this call on, even before the session connects (what a
    /// resumed session redelivers right after CONNACK, say). Await
    /// ``MQTTSubscriptionRegistration/subscribed()`` for the subscription itself.
    package func register(
        to filters: [MQTTTopicFilter], options: MQTTSubscriptionOptions = MQTTSubscriptionOptions(qos: .atLeastOnce),
        acknowledgement: MQTTAcknowledgementMode = .automatic
    ) throws(MQTTError) -> MQTTSubscriptionRegistration {
        precondition(!filters.isEmpty, "register(to:) needs at least one filter")
        return MQTTSubscriptionRegistration(
            core: core, registration: try core.register(filters, options: options, acknowledgement: acknowledgement))
    }

    /// Subscribes for the duration of `body`, then unsubscribes and waits for UNSUBACK.
    public func withSubscription<Result: Sendable>(
        to filters: [MQTTTopicFilter], options: MQTTSubscriptionOptions = MQTTSubscriptionOptions(qos: .atLeastOnce),
        acknowledgement: MQTTAcknowledgementMode = .automatic,
        _ body: (MQTTSubscription) async throws -> Result
    ) async throws -> Result {
        let subscription = try await subscribe(to: filters, options: options, acknowledgement: acknowledgement)
        do {
            let result = try await body(subscription)
            try? await subscription.unsubscribe()
            return result
        } catch {
            subscription.cancel()
            throw error
        }
    }

    /// MQTT 5 request/response: publishes with a Response Topic and unique Correlation Data, and
    /// returns the response. Safe with any number of concurrent calls on one client.
    /// - Throws: ``MQTTError`` — `unsupported` on 3.1.1, `timeout`, or any publish error.
    public func request(
        topic: MQTTTopic, payload: [UInt8], qos: MQTTQoS = .atLeastOnce, properties: MQTTProperties = [],
        timeout: Duration = .seconds(30)
    ) async throws(MQTTError) -> MQTTMessage {
        try await core.request(topic: topic, payload: payload, qos: qos, properties: properties, timeout: timeout)
    }

    /// Answers a request received on a subscription: publishes `payload` to its Response Topic
    /// with its Correlation Data.
    /// - Throws: ``MQTTError`` with code `unsupported` when the message has no response topic.
    @discardableResult
    public func respond(to request: MQTTMessage, payload: [UInt8], qos: MQTTQoS = .atLeastOnce) async throws(MQTTError)
        -> MQTTPublishResult
    {
        guard let name = request.properties.responseTopic else {
            throw MQTTError(.unsupported, "the message has no response topic")
        }
        var props: MQTTProperties = []
        if let data = request.properties.correlationData { props.append(.correlationData(data)) }
        return try await publish(topic: MQTTTopic(name), payload: payload, qos: qos, properties: props)
    }

    /// Publishes waiting in the publish queue now (``statistics``' `queueDepth`, for a caller that
    /// samples it per message: one lock, nothing else copied).
    package var publishQueueDepth: Int { core.state.withLock { $0.machine.queueDepth } }

    /// A snapshot of queue depth, in-flight count and outcome counters.
    public var statistics: MQTTClientStatistics {
        let counts = core.metrics.snapshot
        return core.state.withLock { s in
            MQTTClientStatistics(
                queueDepth: s.machine.queueDepth, inFlight: s.machine.inFlightCount,
                publishesAccepted: counts.accepted, publishesAcknowledged: counts.acknowledged,
                publishesFailed: counts.failed, subscriptionDrops: core.metrics.subscriptionDropTotal,
                subscriptions: s.subscriptions.count, pendingRequests: s.requests.count,
                isConnected: s.machine.state.isConnected)
        }
    }
}

/// The handle of a publish accepted by ``MQTTClient/tryPublish(topic:payload:qos:retain:properties:)``.
public struct MQTTPublishTicket: Sendable {
    let waiter: MQTTWaiter<MQTTPublishResult>

    /// Waits for the publish's one outcome.
    public func result() async throws(MQTTError) -> MQTTPublishResult { try await waiter.value() }

    /// The outcome if it is already known.
    public var outcome: Result<MQTTPublishResult, MQTTError>? { waiter.result }
}
