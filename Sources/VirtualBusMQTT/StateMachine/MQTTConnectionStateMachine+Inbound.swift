extension MQTTConnectionStateMachine {
    /// Handles one decoded packet from the broker.
    mutating func received(_ packet: MQTTPacket, now: ContinuousClock.Instant) -> [Action] {
        if case .connack(let ack) = packet { return connAckReceived(ack, now: now) }
        if case .auth(let auth) = packet, state.isConnecting || state.isConnected { return authReceived(auth) }
        guard state.isConnected else {
            if state == .closed { return [] }  // late bytes after a requested close are ignored
            return violation("\(packet.name) before CONNACK [MQTT-3.2.0-1]")
        }
        switch packet {
        case .publish(let p): return publishReceived(p)
        case .puback(let ack): return pubAckReceived(ack)
        case .pubrec(let ack): return pubRecReceived(ack)
        case .pubrel(let ack):
            // [MQTT-4.3.3-12]: release the id, answer PUBCOMP even when it is unknown (after a reconnect).
            let known = inboundQoS2.remove(ack.packetID) != nil
            return [
                .send(
                    .pubcomp(
                        AckPacket(
                            packetID: ack.packetID, reasonCode: known || !isV5 ? .success : .packetIdentifierNotFound)))
            ]
        case .pubcomp(let ack): return pubCompReceived(ack)
        case .suback(let ack):
            guard let pending = pendingSubscribes.removeValue(forKey: ack.packetID) else {
                return violation("SUBACK for unknown packet identifier \(ack.packetID) [MQTT-3.9.2-1]")
            }
            guard ack.reasonCodes.count == pending.count else {
                return [.subscribeCompleted(pending.completion, .failure(.protocolError("SUBACK count mismatch")))]
                    + violation(
                        "SUBACK has \(ack.reasonCodes.count) reason codes for \(pending.count) filters [MQTT-3.9.3-1]")
            }
            return [.subscribeCompleted(pending.completion, .success(ack.reasonCodes))]
        case .unsuback(let ack):
            guard let pending = pendingUnsubscribes.removeValue(forKey: ack.packetID) else {
                return violation("UNSUBACK for unknown packet identifier \(ack.packetID) [MQTT-3.11.2-1]")
            }
            if isV5 && ack.reasonCodes.count != pending.count {
                return [.unsubscribeCompleted(pending.completion, .failure(.protocolError("UNSUBACK count mismatch")))]
                    + violation(
                        """
                        UNSUBACK has \(ack.reasonCodes.count) reason codes for \(pending.count) filters \
                        [MQTT-3.11.3-1]
                        """
                    )
            }
            return [.unsubscribeCompleted(pending.completion, .success(ack.reasonCodes))]
        case .pingresp:
            state = .connected(pingSent: nil)  // only routed while connected
            pingResponses += 1
            return []
        case .disconnect(let d):
            let text = d.properties.reasonString.map { ": \($0)" } ?? ""
            return [
                .close(MQTTError(.disconnectedByServer, "the broker sent DISCONNECT\(text)", reasonCode: d.reasonCode))
            ]
        case .auth:
            return []  // handled above
        case .connect, .subscribe, .unsubscribe, .pingreq:
            return violation("\(packet.name) sent by the server [MQTT-2.1.2]")
        case .connack:
            return []  // handled above
        }
    }

    private mutating func publishReceived(_ p: PublishPacket) -> [Action] {
        var topicName = p.topic
        if let alias = p.properties.topicAlias {
            // [MQTT-3.3.2-8] [MQTT-3.3.2-9]: alias 0 or above our maximum is a protocol error.
            guard alias > 0 && alias <= configuration.topicAliasMaximum else {
                return violation("topic alias \(alias) out of range [MQTT-3.3.2-9]", code: .topicAliasInvalid)
            }
            if topicName.isEmpty {
                guard let known = topicAliases[alias] else {
                    return violation("unknown topic alias \(alias) [MQTT-3.3.2-12]", code: .topicAliasInvalid)
                }
                topicName = known
            } else {
                topicAliases[alias] = topicName
            }
        }
        // The decoder already enforced valid UTF-8, no U+0000 and no wildcards; only emptiness is left.
        guard !topicName.isEmpty else {
            return violation("empty topic name in PUBLISH [MQTT-4.7.3-1]", code: .topicNameInvalid)
        }
        let topic = MQTTTopic(unchecked: topicName)
        let message = MQTTMessage(
            topic: topic, payload: Array(p.payload.readableBytesView), qos: p.qos,
            retain: p.retain, isDuplicate: p.dup, properties: p.properties)
        guard p.qos != .atMostOnce, let id = p.packetID else { return [.deliver(message, inbound: nil)] }
        if p.qos == .exactlyOnce && inboundQoS2.contains(id) {
            // [MQTT-4.3.3-9]: a duplicate before PUBREL is not delivered again.
            return [.send(.pubrec(AckPacket(packetID: id)))]
        }
        if let pending = inboundPending[id] {
            if pending.qos == .exactlyOnce && pending.remaining == 0 {
                // Accepted by the application while disconnected: this resend gets the PUBREC.
                inboundPending[id] = nil
                inboundQoS2.insert(id)
                return [.send(.pubrec(AckPacket(packetID: id)))]
            }
            // Still with the application (on this connection, or a QoS 2 copy from an earlier one
            // of this session): its acknowledgement will answer it.
            return []
        }
        // Not closed when the broker goes past our Receive Maximum: mosquitto 2.0.11 does once
        // messages queue for a client that acknowledges late (seen: five more PUBLISH per PUBACK
        // with Receive Maximum 5), and closing would make manual acknowledgement unusable with it.
        // The state stays bounded: it is keyed by packet identifier (at most 65,535).
        inboundPending[id] = InboundPending(qos: p.qos, remaining: 1, generation: generation)
        return [.deliver(message, inbound: id)]
    }

    /// The connection generation an acknowledgement of inbound publish `id` must name.
    func inboundGeneration(of id: UInt16) -> UInt64 { inboundPending[id]?.generation ?? generation }

    /// Sets how many acknowledgements a delivered publish waits for (one per manual subscription
    /// that received it); zero acknowledges it now.
    mutating func expectAcknowledgements(_ count: Int, for id: UInt16) -> [Action] {
        guard let entry = inboundPending[id] else { return [] }
        inboundPending[id]!.remaining = count
        return count > 0 ? [] : acknowledgeInbound(id, generation: entry.generation, counting: false)
    }

    /// The application accepted inbound publish `id`, delivered on connection `generation`: once
    /// every expected acknowledgement is in, answer PUBACK (QoS 1) or PUBREC (QoS 2; PUBREL then
    /// PUBCOMP follow as usual).
    ///
    /// A QoS 1 acknowledgement for an earlier connection is not sent: the broker redelivers the
    /// message with DUP on a resumed session. A QoS 2 one goes on the current connection of the
    /// session, or, with none, answers the broker's resend.
    mutating func acknowledgeInbound(_ id: UInt16, generation: UInt64) -> [Action] {
        acknowledgeInbound(id, generation: generation, counting: true)
    }

    private mutating func acknowledgeInbound(_ id: UInt16, generation: UInt64, counting: Bool) -> [Action] {
        guard var entry = inboundPending[id], entry.generation == generation, !counting || entry.remaining > 0 else {
            return []
        }
        if counting { entry.remaining -= 1 }
        if entry.remaining > 0 {
            inboundPending[id] = entry
            return []
        }
        if entry.qos == .exactlyOnce && !state.isConnected {
            inboundPending[id] = entry
            return []
        }
        inboundPending[id] = nil
        if entry.qos == .atLeastOnce {
            return generation == self.generation && state.isConnected ? [.send(.puback(AckPacket(packetID: id)))] : []
        }
        inboundQoS2.insert(id)
        return [.send(.pubrec(AckPacket(packetID: id)))]
    }

    /// The application will never acknowledge inbound publish `id` (its copy was discarded
    /// unseen): forget it, so the broker's next resend is delivered again.
    mutating func forgetInbound(_ id: UInt16, generation: UInt64) {
        if inboundPending[id]?.generation == generation { inboundPending[id] = nil }
    }

    private mutating func pubAckReceived(_ ack: AckPacket) -> [Action] {
        if !isV5, let entry = outbound[ack.packetID], entry.stage == .awaitingPubRec {
            // A 3.1.1 broker without QoS 2 (RabbitMQ 3.x) takes a QoS 2 publish at QoS 1 and says
            // so with PUBACK; 3.1.1 has no Maximum QoS to announce it earlier. The message is
            // stored at least once: complete with the QoS it got, a visible downgrade, rather than
            // closing a connection over a broker's documented behaviour.
            outbound[ack.packetID] = nil
            var downgraded = entry
            downgraded.packet.qos = .atLeastOnce
            return [complete(downgraded, ack)] + drainQueue()
        }
        guard let entry = outbound[ack.packetID], entry.stage == .awaitingPubAck else {
            return violation("PUBACK for packet identifier \(ack.packetID) that is not awaiting one [MQTT-4.3.2]")
        }
        outbound[ack.packetID] = nil
        return [complete(entry, ack)] + drainQueue()
    }

    private mutating func pubRecReceived(_ ack: AckPacket) -> [Action] {
        guard let entry = outbound[ack.packetID], entry.packet.qos == .exactlyOnce else {
            return violation(
                "PUBREC for packet identifier \(ack.packetID) that is not a QoS 2 publish in flight [MQTT-4.3.3]")
        }
        if ack.reasonCode.isFailure {
            // [MQTT-4.3.3-4]: a failed PUBREC ends the flow; the identifier is free again.
            outbound[ack.packetID] = nil
            return [complete(entry, ack)] + drainQueue()
        }
        outbound[ack.packetID]!.stage = .awaitingPubComp
        return [.send(.pubrel(AckPacket(packetID: ack.packetID)))]
    }

    private mutating func pubCompReceived(_ ack: AckPacket) -> [Action] {
        guard let entry = outbound[ack.packetID], entry.stage == .awaitingPubComp else {
            return violation("PUBCOMP for packet identifier \(ack.packetID) that is not awaiting one [MQTT-4.3.3]")
        }
        outbound[ack.packetID] = nil
        return [complete(entry, ack)] + drainQueue()
    }

    private func complete(_ entry: Outbound, _ ack: AckPacket) -> Action {
        if ack.reasonCode.isFailure {
            return .publishCompleted(
                entry.completion,
                .failure(
                    MQTTError(
                        .brokerRejected, "the broker rejected the publish",
                        reasonCode: ack.reasonCode)))
        }
        return .publishCompleted(
            entry.completion,
            .success(
                MQTTPublishResult(
                    qos: entry.packet.qos, reasonCode: ack.reasonCode,
                    properties: ack.properties)))
    }
}
