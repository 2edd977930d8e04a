import ConcurrencyPrimitives
extension ClientCore {
    /// Sends a received message to every local subscription with a matching filter (once per
    /// subscription) and to the request waiting for it.
    ///
    /// `inbound` is the packet identifier of a QoS 1/2 publish: it is acknowledged now unless a
    /// manual subscription received it, in which case each manual copy carries a handle and the
    /// acknowledgement goes out when all of them were acknowledged.
    func route(_ message: MQTTMessage, inbound: UInt16?, _ s: inout State, _ effects: inout [Effect]) {
        if let id = s.requests.requestID(answeredBy: message) {
            if let waiter = s.requests.remove(id) { effects.append(.response(waiter, message)) }
            if let inbound { apply(s.machine.expectAcknowledgements(0, for: inbound), to: &s, effects: &effects) }
            return
        }
        let matching = s.subscriptions.matching(message.topic)
        var manualCopies = 0
        for local in matching where deliver(message, inbound: inbound, to: local, &s, &effects) { manualCopies += 1 }
        guard let inbound else { return }
        if matching.isEmpty && holdUnrouted(message, inbound: inbound, &s) { return }
        apply(s.machine.expectAcknowledgements(manualCopies, for: inbound), to: &s, effects: &effects)
    }

    /// Queues `message` for one local subscription; a QoS 1/2 copy for a manual subscription gets
    /// an acknowledgement handle (returns true: one more acknowledgement to wait for).
    func deliver(
        _ message: MQTTMessage, inbound: UInt16?, to local: LocalSubscription,
        _ s: inout State, _ effects: inout [Effect]
    ) -> Bool {
        guard local.manual, let inbound else {
            effects.append(.deliver(local.buffer, message))
            return false
        }
        var copy = message
        copy.acknowledgement = MQTTInboundAcknowledgement(
            core: self, packetID: inbound, generation: s.machine.inboundGeneration(of: inbound))
        effects.append(.deliver(local.buffer, copy))
        return true
    }

    /// The application accepted a manually acknowledged message (see ``MQTTInboundAcknowledgement``).
    func acknowledgeInbound(_ packetID: UInt16, generation: UInt64) {
        perform { s in s.machine.acknowledgeInbound(packetID, generation: generation) }
    }

    /// Registers a local subscription; SUBSCRIBE goes out only for filters not yet held at the
    /// broker with at least this QoS. Waits for the SUBACKs that cover its filters.
    func subscribe(
        _ filters: [MQTTTopicFilter], options: MQTTSubscriptionOptions,
        acknowledgement: MQTTAcknowledgementMode = .automatic
    ) async throws(MQTTError) -> MQTTSubscription {
        try await completeSubscription(try register(filters, options: options, acknowledgement: acknowledgement))
    }

    /// A local subscription in the client's tables whose broker subscriptions may still be on their
    /// way: messages that match it are routed to it from now on.
    struct Registration: Sendable {
        let id: UInt64
        let filters: [MQTTTopicFilter]
        let buffer: MQTTSubscriptionBuffer
        /// The SUBSCRIBEs this subscription waits for (its own, or one already in flight).
        let waits: [MQTTWaiter<[MQTTReasonCode]>]
    }

    /// Registers a local subscription at once, without waiting: a subscription made before the
    /// session connects is in place for what a resumed session redelivers right after CONNACK.
    func register(
        _ filters: [MQTTTopicFilter], options: MQTTSubscriptionOptions,
        acknowledgement: MQTTAcknowledgementMode
    ) throws(MQTTError) -> Registration {
        let policy = configuration.subscriptionBufferPolicy
        let dropOldest = policy == .dropOldest && !acknowledgement.isManual
        let drops = metrics.subscriptionDrops(dropOldest: dropOldest)
        let buffer = MQTTSubscriptionBuffer(
            capacity: configuration.subscriptionBufferCapacity,
            dropOldest: dropOldest, keepsAcknowledged: acknowledgement.isManual,
            onDrop: { drops.increment() })
        var waits: [MQTTWaiter<[MQTTReasonCode]>] = []
        var effects: [Effect] = []
        let id: UInt64? = state.withLock { s in
            guard !s.isShutdown else { return nil }
            let local = LocalSubscription(filters: filters, buffer: buffer, manual: acknowledgement.isManual)
            let added = s.subscriptions.add(local, options: options)
            claimUnrouted(for: local, &s, &effects)
            waits = added.inFlight
            if !added.fresh.isEmpty {
                let waiter = MQTTWaiter<[MQTTReasonCode]>()
                s.subscriptions.markPending(added.fresh.map(\.filter), waiter)
                waits.append(waiter)
                if s.machine.state.isConnected {
                    apply(s.machine.subscribe(added.fresh, completion: .codes(waiter)), to: &s, effects: &effects)
                }
                // Not connected: the filters are subscribed on CONNACK, which completes `waiter`.
            }
            return added.id
        }
        run(effects)
        guard let id else { throw MQTTError(.shutdown, "the client is shut down") }
        return Registration(id: id, filters: filters, buffer: buffer, waits: waits)
    }

    /// Waits for the broker's answers to a registration's SUBSCRIBEs; a refusal releases it.
    func completeSubscription(_ registration: Registration) async throws(MQTTError) -> MQTTSubscription {
        let (id, filters, buffer, waits) = (
            registration.id, registration.filters, registration.buffer, registration.waits
        )
        var codes: [MQTTReasonCode] = []
        var failure: MQTTError?
        for w in waits {
            do { codes += try await w.value() } catch { failure = failure ?? error }
        }
        // The SUBSCRIBEs we waited for are finished: later subscribers need not wait for them.
        state.withLock { s in s.subscriptions.settle(filters, waits: waits) }
        if let failure {
            releaseNow(id)
            throw failure
        }
        if let failed = codes.first(where: { $0.isFailure }) {
            releaseNow(id)
            throw MQTTError(.brokerRejected, "the broker refused the subscription", reasonCode: failed)
        }
        return MQTTSubscription(
            id: id, filters: filters, reasonCodes: codes, buffer: buffer,
            release: { [weak self] id throws(MQTTError) in try await self?.release(id) },
            releaseNow: { [weak self] id in self?.releaseNow(id) })
    }

    /// Removes a local subscription; returns the UNSUBSCRIBE waiter when a filter was released.
    private func unregister(_ id: UInt64) -> MQTTWaiter<[MQTTReasonCode]>? {
        var effects: [Effect] = []
        var abandoned: MQTTSubscriptionBuffer?
        let waiter: MQTTWaiter<[MQTTReasonCode]>? = state.withLock { s in
            guard let (local, released) = s.subscriptions.remove(id) else { return nil }
            effects.append(.finish(local.buffer, nil))
            if local.manual { abandoned = local.buffer }
            guard !released.isEmpty, s.machine.state.isConnected else { return nil }
            let waiter = MQTTWaiter<[MQTTReasonCode]>()
            apply(s.machine.unsubscribe(released, completion: .codes(waiter)), to: &s, effects: &effects)
            return waiter
        }
        run(effects)
        if let abandoned { forgetUnseen(in: abandoned) }
        return waiter
    }

    /// Messages a manual subscription still buffered when it ended were never seen by the
    /// application: they leave the buffer unacknowledged and their packet identifiers are
    /// forgotten, so the broker's resend on a resumed session is delivered again (also at QoS 2,
    /// which otherwise merges a resend into the copy the application holds).
    private func forgetUnseen(in buffer: MQTTSubscriptionBuffer) {
        let unseen = buffer.removeUnacknowledged()
        guard !unseen.isEmpty else { return }
        perform { s in
            for handle in unseen { s.machine.forgetInbound(handle.packetID, generation: handle.generation) }
            return []
        }
    }

    /// Ends a subscription without waiting (deinit, cancel).
    func releaseNow(_ id: UInt64) { _ = unregister(id) }

    /// Ends a subscription and waits for UNSUBACK if one was needed.
    func release(_ id: UInt64) async throws(MQTTError) {
        guard let waiter = unregister(id) else { return }
        _ = try await waiter.value()
    }
}
