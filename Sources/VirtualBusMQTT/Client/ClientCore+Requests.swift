import ConcurrencyPrimitives
internal import NIOCore
internal import NIOPosix

extension ClientCore {
    /// MQTT 5 request/response: publishes with a Response Topic and unique Correlation Data and
    /// waits for the matching response. Responses are matched by correlation data only, so any
    /// number of requests may be in flight at once.
    func request(
        topic: MQTTTopic, payload: [UInt8], qos: MQTTQoS, properties: MQTTProperties,
        timeout: Duration
    ) async throws(MQTTError) -> MQTTMessage {
        guard configuration.version == .v5 else { throw MQTTError(.unsupported, "request/response needs MQTT 5") }
        let responseTopic = try await ensureResponseSubscription()
        let waiter = MQTTWaiter<MQTTMessage>()
        let (id, correlation) = state.withLock { s in s.requests.add(waiter) }
        let timer = MultiThreadedEventLoopGroup.singleton.next().scheduleTask(
            in: .nanoseconds(
                Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        ) {
            let w = self.state.withLock { s in s.requests.remove(id) }
            w?.complete(.failure(MQTTError(.timeout, "no response within \(timeout)")))
        }
        defer { timer.cancel() }
        var props = properties
        props.append(.responseTopic(responseTopic.name))
        props.append(.correlationData(correlation))
        let packet = PublishPacket(topic: topic.name, payload: ByteBuffer(bytes: payload), qos: qos, properties: props)
        do {
            _ = try await publish(packet)
        } catch {
            state.withLock { s in _ = s.requests.remove(id) }
            throw error
        }
        return try await waiter.value()
    }

    /// Subscribes once to this client's response topic; concurrent first callers share it.
    private func ensureResponseSubscription() async throws(MQTTError) -> MQTTTopic {
        let (topic, ready, isFirst) = state.withLock { s in
            if s.requests.responseTopic == nil {
                let suffix =
                    configuration.clientID.isEmpty
                    ? String(UInt64.random(in: 1...UInt64.max), radix: 36) : configuration.clientID
                let nonce = String(UInt32.random(in: 1...UInt32.max), radix: 36)
                s.requests.responseTopic =
                    (try? MQTTTopic("\(configuration.responseTopicPrefix)/\(suffix)/\(nonce)"))
                    ?? MQTTTopic(unchecked: "vbus/responses/\(nonce)")
            }
            if let ready = s.requests.responseReady { return (s.requests.responseTopic!, ready, false) }
            let ready = MQTTWaiter<MQTTSubscription>()
            s.requests.responseReady = ready
            return (s.requests.responseTopic!, ready, true)
        }
        if isFirst {
            do {
                let sub = try await subscribe(
                    [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: .atLeastOnce))
                ready.complete(.success(sub))
            } catch {
                state.withLock { s in s.requests.responseReady = nil }  // the next request tries again
                ready.complete(.failure(error))
                throw error
            }
        } else {
            _ = try await ready.value()
        }
        return topic
    }
}
