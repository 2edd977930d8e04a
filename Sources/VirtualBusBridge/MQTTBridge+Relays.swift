import VirtualBus
import VirtualBusMQTT

extension MQTTBridge {
    /// Bus -> MQTT. Publishes are pipelined: each is handed to the session without waiting for its
    /// flow, and one collector task awaits the outcomes in order (acknowledgements mostly come in
    /// order, so it rarely waits on one while later ones are done).
    ///
    /// While the broker is away the session's publish queue is the outage buffer, and its policy
    /// decides: drop oldest or newest (the dropped publishes fail and are counted), or wait, in
    /// which case the relay waits for that one publish's flow, holding the bus subscription (whose
    /// own bound then backs up to the bus publishers and their policy).
    func relayOut(_ subscription: BusSubscription) async {
        let isV5 = mqtt.configuration.version == .v5
        let (outcomes, pending) = AsyncStream.makeStream(of: OutboundPublish.self)
        async let collected: Void = collectOutcomes(outcomes)
        for await message in subscription {
            if Task.isCancelled { break }  // the drain timed out: what is left was never taken
            let payload = Array(message.payload)
            let route = route(outbound: message.topic)
            if busEchoes.consume(topic: message.topic, payload: payload) {
                // Ours, brought in from MQTT: never sent back out.
                if let (index, _, _) = route { counters.update(index) { $0.loopsPrevented += 1 } }
                continue
            }
            guard let (index, rule, topic) = route else { continue }
            counters.update(index) { $0.forwardedOut += 1 }
            let qos = rule.qos
            let retain = rule.retain == .always
            do throws(MQTTError) {
                let mqttTopic = try MQTTTopic(topic)
                // Expected before it is sent, so the echo cannot come first.
                let echo = !isV5 && inboundFilters.contains { $0.matches(mqttTopic) } ? (topic, payload) : nil
                if let echo { echoes.expect(topic: echo.0, payload: echo.1) }
                do throws(MQTTError) {
                    do throws(MQTTError) {
                        pending.yield(
                            OutboundPublish(
                                rule: index,
                                ticket: try mqtt.tryPublish(
                                    topic: mqttTopic, payload: payload, qos: qos, retain: retain), echo: echo))
                        metrics.recordOutageBufferDepth()
                    } catch  where error.code == .queueFull {
                        // Full under a waiting policy: wait here (under fail fast this fails at once too).
                        _ = try await mqtt.publish(topic: mqttTopic, payload: payload, qos: qos, retain: retain)
                        counters.update(index) { $0.acknowledgedOut += 1 }
                    }
                } catch {
                    withdrawEcho(echo, after: error)
                    throw error
                }
            } catch {
                counters.update(index) { $0.failedOut[error.code.description, default: 0] += 1 }
            }
        }
        pending.finish()
        await collected
    }

    /// A publish handed to the session, with the echo a 3.1.1 broker will send back, if any.
    struct OutboundPublish: Sendable {
        var rule: Int
        var ticket: MQTTPublishTicket
        var echo: (topic: String, payload: [UInt8])?
    }

    private func collectOutcomes(_ outcomes: AsyncStream<OutboundPublish>) async {
        for await publish in outcomes {
            do throws(MQTTError) {
                _ = try await publish.ticket.result()
                counters.update(publish.rule) { $0.acknowledgedOut += 1 }
            } catch {
                withdrawEcho(publish.echo, after: error)
                counters.update(publish.rule) { $0.failedOut[error.code.description, default: 0] += 1 }
            }
        }
    }

    /// A publish that failed before it could reach the broker will not come back: its expected
    /// echo would otherwise swallow a foreign message identical to it. (A publish that failed
    /// later, with the session lost or at shutdown, may have reached it: its expectation stays.)
    private func withdrawEcho(_ echo: (topic: String, payload: [UInt8])?, after error: MQTTError) {
        guard let echo,
            [.queueFull, .droppedByPolicy, .timeout, .invalidTopic, .packetTooLarge, .brokerRejected].contains(
                error.code)
        else { return }
        echoes.consume(topic: echo.topic, payload: echo.payload)
    }

    /// MQTT -> bus, exactly as the broker sent it (the mapped topic and the payload, nothing added).
    /// Retained messages go through the bus-side last-value cache (an empty retained payload
    /// deletes the topic's value, and is relayed).
    ///
    /// The subscription acknowledges manually: PUBACK / PUBREC goes to the broker only once the
    /// bus accepted the message (or it was deliberately not relayed: an echo, a topic the rule does
    /// not carry, a message the bus can never take, each counted). A full bus is waited for; a bus
    /// shutting down leaves the message unacknowledged, for the broker to send to the next session.
    func relayIn(_ subscription: MQTTSubscription, rule index: Int, retained: BusLastValueCache?) async {
        let rule = rules[index]
        do {
            // Fail fast, and wait by suspending: a blocking send would hold a thread of the
            // cooperative pool for as long as the bus is full.
            let publisher = try bus.makePublisher(policy: .failFast)
            for try await message in subscription {
                if message.isDuplicate { counters.update(index) { $0.duplicatesIn += 1 } }
                if echoes.consume(topic: message.topic.name, payload: message.payload) {
                    counters.update(index) { $0.loopsPrevented += 1 }
                } else if let topic = rule.busTopic(forMQTTTopic: message.topic.name) {
                    guard await deliverIn(message, as: topic, rule: index, publisher: publisher, retained: retained)
                    else { return }
                }
                message.acknowledge()
            }
        } catch {
            logger.debug("bridge: inbound relay ended", metadata: ["rule": "\(rule)", "error": "\(error)"])
        }
    }

    /// Publishes one inbound message on the bus, waiting while the bus is full. Returns `false`
    /// when the bus is shutting down or the relay was cancelled: the message was not taken.
    private func deliverIn(
        _ message: MQTTMessage, as topic: String, rule index: Int, publisher: BusPublisher, retained: BusLastValueCache?
    ) async -> Bool {
        var pause = Duration.milliseconds(1)
        var waiting = false
        while true {
            do throws(BusError) {
                if message.retain, let retained {
                    // The cache tells `busEchoes` itself (see `observeCache`): it also replays.
                    try retained.publish(topic: topic, payload: message.payload)
                    counters.update(index) {
                        $0.forwardedIn += 1; $0.retainedIn += 1
                    }
                } else {
                    try publishExpectingEcho(topic: topic, payload: message.payload, on: publisher)
                    counters.update(index) { $0.forwardedIn += 1 }
                }
                return true
            } catch  where error.code == .highWaterMark {
                if !waiting { counters.update(index) { $0.busFullWaits += 1 } }
                waiting = true
            } catch  where error.code == .shutDown {
                return false
            } catch {
                // Never acceptable (too large for this bus): acknowledged, and counted as dropped.
                counters.update(index) { $0.droppedIn[error.code.description, default: 0] += 1 }
                return true
            }
            // The bus is full: try again after a pause that grows to 100 ms (no wake-up exists for
            // "the bus has room"; libzmq only offers blocking sends).
            do { try await Task.sleep(for: pause) } catch { return false }
            pause = min(pause * 2, .milliseconds(100))
        }
    }

    /// Publishes on the bus what came in from MQTT. When the bridge's own outbound subscription
    /// covers the topic, the message is expected back there first, before it can arrive, and the
    /// expectation is withdrawn if the bus did not take it.
    private func publishExpectingEcho(topic: String, payload: [UInt8], on publisher: BusPublisher) throws(BusError) {
        let comesBack = isOnOutboundSubscription(topic)
        if comesBack { busEchoes.expect(topic: topic, payload: payload) }
        do throws(BusError) {
            try publisher.publish(topic: topic, payload: payload)
        } catch {
            if comesBack { busEchoes.consume(topic: topic, payload: payload) }
            throw error
        }
    }

    /// What the last-value cache sends (updates and replays to new bus subscribers alike) reaches
    /// the bridge's outbound subscription when it covers the topic: expected there, like
    /// ``publishExpectingEcho(topic:payload:on:)``.
    func observeCache(_ sending: BusLastValueCache.Sending) {
        switch sending {
        case .willSend(let topic, let payload):
            if isOnOutboundSubscription(topic) { busEchoes.expect(topic: topic, payload: payload) }
        case .notSent(let topic, let payload):
            if isOnOutboundSubscription(topic) { busEchoes.consume(topic: topic, payload: payload) }
        }
    }

    /// Whether the bridge's outbound bus subscription receives messages on `topic` (byte prefixes,
    /// as ZeroMQ matches them).
    func isOnOutboundSubscription(_ topic: String) -> Bool {
        outboundPrefixes.contains { topic.utf8.starts(with: $0.utf8) }
    }

    /// The first rule that carries a bus topic out, with the MQTT topic.
    func route(outbound topic: String) -> (Int, BridgeRule, String)? {
        for (index, rule) in rules.enumerated() {
            if let mqttTopic = rule.mqttTopic(forBusTopic: topic) { return (index, rule, mqttTopic) }
        }
        return nil
    }
}
