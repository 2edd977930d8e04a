extension VirtualBus {
    /// Subscribes to every topic that starts with one of `prefixes` (byte-wise, as in ZeroMQ; the
    /// empty prefix matches everything).
    ///
    /// Returns once the subscription has reached the proxy: a message published after this returns
    /// is delivered (no slow-joiner race). The subscription owns a run loop thread and a bounded
    /// buffer of `bufferCapacity` messages with `bufferPolicy`.
    public func subscribe(
        to prefixes: [String],
        bufferCapacity: Int = 8192,
        bufferPolicy: BusSubscription.BufferPolicy = .backpressure
    ) async throws(BusError) -> BusSubscription {
        guard bufferCapacity > 0 else {
            throw BusError(.invalidConfiguration, "bufferCapacity must be positive, got \(bufferCapacity)")
        }
        for prefix in prefixes { try BusTopic.validate(prefix: prefix) }
        guard let backend = names.backendConnect else {
            throw BusError(
                .invalidConfiguration, "this bus was connected without a backend endpoint: it cannot subscribe")
        }
        // Counted as connecting until the run loop's SUB socket has connected (see `connecting`).
        let id = try registry.withLock { registry throws(BusError) -> UInt64 in try registry.beginConnecting() }
        let storage = SubscriptionStorage(
            capacity: bufferCapacity, policy: bufferPolicy, metrics: metrics.subscription(id: id))
        let runLoop: SubscriptionRunLoop
        do throws(BusError) {
            runLoop = try await SubscriptionRunLoop.start(
                id: id, context: context, backend: backend, controlEndpoint: names.runLoopControl(id),
                prefixes: (prefixes.isEmpty ? [""] : prefixes).map { Array($0.utf8) },
                storage: storage, configuration: configuration
            )
            registry.withLock { $0.endConnecting() }
        } catch {
            registry.withLock { $0.endConnecting() }
            throw error
        }
        let subscription = BusSubscription(
            handle: .init(
                runLoop: runLoop, prefixes: prefixes,
                registration: BusRegistration(bus: self, id: id, kind: .subscription))
        )
        guard registry.withLock({ $0.add(runLoop) }) else {
            subscription.cancel()
            throw BusError.shutDown
        }
        try await completeHandshake(of: runLoop)
        logger.trace("subscribed", metadata: ["id": "\(id)", "prefixes": "\(prefixes)"])
        return subscription
    }

    /// Subscribes and runs `handler` for each message on a task the bus owns. The handler may call
    /// ``shutdown(deadline:)`` itself. The task ends when the subscription is cancelled or the bus
    /// shuts down.
    @discardableResult
    public func subscribe(
        to prefixes: [String],
        bufferCapacity: Int = 8192,
        bufferPolicy: BusSubscription.BufferPolicy = .backpressure,
        handler: @escaping @Sendable (BusMessage) async -> Void
    ) async throws(BusError) -> BusSubscriptionTask {
        let subscription = try await subscribe(to: prefixes, bufferCapacity: bufferCapacity, bufferPolicy: bufferPolicy)
        let id = registry.withLock { $0.makeID() }
        let registration = BusRegistration(bus: self, id: id, kind: .consumerTask)
        let task = Task {
            for await message in subscription {
                await handler(message)
            }
            registration.unregister()
        }
        guard registry.withLock({ $0.add(task, id: id) }) else {
            task.cancel()
            subscription.cancel()
            throw BusError.shutDown
        }
        return BusSubscriptionTask(subscription: subscription, task: task)
    }

    /// Sends probes on the handshake topic until the run loop sees its own, which proves every one of
    /// its prefixes is active in the proxy. Probes back off from 100 µs; the proxy may be paused.
    private func completeHandshake(of runLoop: SubscriptionRunLoop) async throws(BusError) {
        guard let handshakePublisher = try probePublisher() else { return }
        let deadline = ContinuousClock.now + configuration.subscribeTimeout
        let probe = withUnsafeBytes(of: runLoop.id.littleEndian, Array.init)
        var interval = Duration.microseconds(100)
        while true {
            let sent = probe.withUnsafeBytes { payload in
                Result { () throws(BusError) in
                    try handshakePublisher.send(internalTopic: BusTopic.handshakeTopic, payload: payload)
                }
            }
            if case .failure(let error) = sent {
                runLoop.stop()
                throw error
            }
            if await runLoop.handshakeDone.wait(until: min(.now + interval, deadline)) { return }
            if ContinuousClock.now >= deadline {
                runLoop.stop()
                runLoop.storage.finish()
                throw BusError(
                    .subscribeTimedOut,
                    """
                    the subscription did not reach the proxy within \(configuration.subscribeTimeout) (is the \
                    proxy paused?)
                    """
                )
            }
            interval = min(interval * 2, .milliseconds(50))
        }
    }
}
