extension MQTTConnectionStateMachine {
    /// Accepts a publish: sends it now, queues it, or fails it at once (never blocks).
    ///
    /// When the queue is full the policy decides: fail fast (and `wait`, whose waiting happens
    /// above the machine) fails the new message with `queueFull`; drop newest fails it with
    /// `droppedByPolicy`; drop oldest fails the oldest queued message and keeps the new one.
    mutating func publish(_ packet: PublishPacket, completion: Completion) -> [Action] {
        if state == .closed {
            return [.publishCompleted(completion, .failure(MQTTError(.shutdown, "the client is shut down")))]
        }
        if isV5 && packet.qos > serverMaximumQoS {
            return [
                .publishCompleted(
                    completion,
                    .failure(
                        MQTTError(
                            .brokerRejected,
                            "the broker's Maximum QoS is \(serverMaximumQoS.rawValue)", reasonCode: .qosNotSupported)))
            ]
        }
        let canSendNow =
            state.isConnected && queue.isEmpty
            && (packet.qos == .atMostOnce || outbound.count < sendQuota)
        if canSendNow {
            if packet.qos == .atMostOnce { return [.sendQoS0(.publish(packet), completion)] }
            if let id = allocatePacketID() {
                var packet = packet
                packet.packetID = id
                outbound[id] = Outbound(
                    packet: packet, completion: completion,
                    stage: packet.qos == .atLeastOnce ? .awaitingPubAck : .awaitingPubRec)
                return [.send(.publish(packet))]
            }
        }
        if queue.count < configuration.queueCapacity {
            queue.append(Queued(packet: packet, completion: completion))
            return []
        }
        switch configuration.queuePolicy.kind {
        case .failFast, .wait:
            return [
                .publishCompleted(
                    completion,
                    .failure(
                        MQTTError(
                            .queueFull,
                            "the publish queue is full (\(configuration.queueCapacity))")))
            ]
        case .dropNewest:
            return [
                .publishCompleted(
                    completion,
                    .failure(
                        MQTTError(
                            .droppedByPolicy,
                            "dropped by the drop-newest policy: queue full (\(configuration.queueCapacity))")))
            ] + countDrop()
        case .dropOldest:
            guard let oldest = queue.popFirst() else {
                return [
                    .publishCompleted(completion, .failure(MQTTError(.queueFull, "the publish queue has capacity 0")))
                ]
            }
            queue.append(Queued(packet: packet, completion: completion))
            return [
                .publishCompleted(
                    oldest.completion,
                    .failure(
                        MQTTError(
                            .droppedByPolicy,
                            "dropped by the drop-oldest policy: queue full (\(configuration.queueCapacity))")))
            ] + countDrop()
        }
    }

    /// Sends SUBSCRIBE; the completion receives one reason code per filter.
    mutating func subscribe(
        _ subscriptions: [(filter: MQTTTopicFilter, options: MQTTSubscriptionOptions)],
        properties: MQTTProperties = [], completion: Completion
    ) -> [Action] {
        guard state.isConnected else {
            return [.subscribeCompleted(completion, .failure(notConnectedError))]
        }
        guard let id = allocatePacketID() else {
            return [
                .subscribeCompleted(completion, .failure(MQTTError(.queueFull, "all packet identifiers are in use")))
            ]
        }
        pendingSubscribes[id] = (completion, subscriptions.count)
        return [
            .send(
                .subscribe(
                    SubscribePacket(packetID: id, subscriptions: subscriptions, properties: isV5 ? properties : [])))
        ]
    }

    /// Sends UNSUBSCRIBE; the completion receives one reason code per filter (empty on 3.1.1).
    mutating func unsubscribe(_ filters: [MQTTTopicFilter], completion: Completion) -> [Action] {
        guard state.isConnected else {
            return [.unsubscribeCompleted(completion, .failure(notConnectedError))]
        }
        guard let id = allocatePacketID() else {
            return [
                .unsubscribeCompleted(completion, .failure(MQTTError(.queueFull, "all packet identifiers are in use")))
            ]
        }
        pendingUnsubscribes[id] = (completion, filters.count)
        return [.send(.unsubscribe(UnsubscribePacket(packetID: id, filters: filters)))]
    }

    var notConnectedError: MQTTError {
        state == .closed
            ? MQTTError(.shutdown, "the client is shut down") : MQTTError(.connectionFailed, "not connected")
    }

    // MARK: time and lifecycle

    /// Keep-alive and connect-timeout check ([MQTT-3.1.2-20], [MQTT-3.1.2-22]).
    ///
    /// Sends PINGREQ when nothing was sent for three quarters of the keep-alive interval, and
    /// closes with `keepAliveTimeout` when a PINGREQ is unanswered for `timeout` (default: the
    /// interval). The quarter's lead is for the tick: the handler ticks every quarter interval,
    /// so the PINGREQ goes out within the interval, as [MQTT-3.1.2-23] requires; waiting for the
    /// whole interval sent it up to a tick late, which a broker counting whole seconds (mosquitto)
    /// can take for a dead client with a short keep-alive.
    mutating func tick(now: ContinuousClock.Instant, connectTimeout: Duration, pingTimeout: Duration? = nil) -> [Action]
    {
        switch state {
        case .connecting(let started):
            if now - started >= connectTimeout {
                // amqtt 0.12, for one, reads an MQTT 5.0 CONNECT as 3.1.1 and waits for bytes that never come.
                let hint =
                    isV5
                    ? """
                     in answer to an MQTT 5.0 CONNECT (a broker that does not speak 5.0 may wait like this: try \
                    MQTT 3.1.1)
                    """
                    : ""
                return [.close(MQTTError(.connectionFailed, "no CONNACK within \(connectTimeout)\(hint)"))]
            }
            return []
        case .connected(let pingSent):
            guard keepAlive > .zero else { return [] }
            if let sent = pingSent {
                if now - sent >= (pingTimeout ?? keepAlive) {
                    return [
                        .close(
                            MQTTError(
                                .keepAliveTimeout, "no PINGRESP within \(pingTimeout ?? keepAlive)",
                                reasonCode: .keepAliveTimeout))
                    ]
                }
                return []
            }
            if let last = lastSent, now - last >= keepAlive * 3 / 4 {
                state = .connected(pingSent: now)
                lastSent = now
                return [.send(.pingreq)]
            }
            return []
        case .idle, .disconnected, .closed:
            return []
        }
    }

    /// Records that bytes went out (the handler calls this after writing).
    mutating func didSend(now: ContinuousClock.Instant) { lastSent = now }

    /// The transport closed. Pending subscribe/unsubscribe fail; publishes are kept for the next
    /// connection when configured, otherwise failed with `sessionLost`.
    mutating func connectionClosed(error: MQTTError?) -> [Action] {
        guard state != .closed else { return [] }
        state = .disconnected
        var actions: [Action] = []
        let lost = MQTTError(
            .sessionLost, "connection lost" + (error.map { ": \($0.message)" } ?? ""),
            reasonCode: error?.reasonCode)
        for (_, p) in pendingSubscribes { actions.append(.subscribeCompleted(p.completion, .failure(lost))) }
        for (_, p) in pendingUnsubscribes { actions.append(.unsubscribeCompleted(p.completion, .failure(lost))) }
        pendingSubscribes = [:]
        pendingUnsubscribes = [:]
        if let r = reauthentication { actions.append(.reauthenticated(r, .failure(lost))) }
        reauthentication = nil
        if !configuration.keepMessagesWhenDisconnected {
            for id in outbound.keys.sorted() {
                actions.append(.publishCompleted(outbound[id]!.completion, .failure(lost)))
            }
            outbound = [:]
            while let q = queue.popFirst() { actions.append(.publishCompleted(q.completion, .failure(lost))) }
        }
        return actions
    }

    /// Ends the session for good: DISCONNECT if connected, every waiter fails with `shutdown`.
    mutating func shutdown() -> [Action] {
        let wasConnected = state.isConnected
        let wasOpen = state.isConnecting || wasConnected
        guard state != .closed else { return [] }
        state = .closed
        var actions = failEverything(MQTTError(.shutdown, "the client was shut down"))
        if wasConnected {
            // The session was kept alive longer only for reconnects: a client that ends on purpose
            // leaves the broker with the expiry it asked for (MQTT 5 allows lowering it here).
            var disconnect = ReasonPacket()
            if isV5 && requestedSessionExpiry != configuration.sessionExpiry {
                disconnect.properties.append(.sessionExpiryInterval(configuration.sessionExpiry))
            }
            actions.append(.send(.disconnect(disconnect)))
        }
        if wasOpen { actions.append(.close(nil)) }
        return actions
    }
}
