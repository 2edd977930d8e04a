internal import NIOCore

/// The MQTT session logic as a value type with no I/O.
///
/// Every event returns the actions to run; the caller holds the machine behind a lock and runs
/// the actions after releasing it. `Completion` is an opaque token carried with each request
/// (the client's promise; an `Int` in tests) and handed back exactly once in a completion
/// action — that "exactly once" is what makes every accepted publish end in one outcome.
struct MQTTConnectionStateMachine<Completion> {
    struct Configuration {
        var version: MQTTProtocolVersion = .v5
        var clientID: String = ""
        var cleanStart: Bool = true
        var sessionExpiry: UInt32 = 0
        var keepAlive: Duration = .seconds(60)
        var username: String?
        var password: [UInt8]?
        var will: MQTTWill?
        /// Our Receive Maximum: inbound QoS 2 publishes we hold un-released at once.
        var receiveMaximum: UInt16 = 65_535
        /// Our Maximum Packet Size for inbound packets.
        var maximumPacketSize: UInt32 = 1 << 20
        /// Topic aliases we accept from the broker.
        var topicAliasMaximum: UInt16 = 64
        /// Our own cap on outbound QoS 1/2 in flight; the broker's Receive Maximum may lower it.
        var maxInFlight: Int = 65_535
        /// Publishes held while there is no send quota or no connection.
        var queueCapacity: Int = 1_000
        var queuePolicy: MQTTQueuePolicy = .failFast
        /// Keep queued and in-flight publishes across a lost connection (for a reconnect).
        var keepMessagesWhenDisconnected: Bool = false
        /// Resume the session on every reconnect (clean start off after the first connection), so
        /// in-flight QoS 1/2 publishes finish by retransmission instead of being sent again or failed.
        var resumeSessionOnReconnect: Bool = false
        /// MQTT 5: the session expiry asked for while connected when resuming and `sessionExpiry` is
        /// shorter; the graceful DISCONNECT sets `sessionExpiry` back, so nothing outlives the client.
        var resumableSessionExpiry: UInt32 = 0
        /// Enhanced authentication (MQTT 5): method and first data, sent in CONNECT.
        var authenticationMethod: String?
        var authenticationData: [UInt8]?
    }

    enum Action {
        case send(MQTTPacket)
        /// A QoS 0 publish: completes with `.success` once written (or fails with the write).
        case sendQoS0(MQTTPacket, Completion)
        case publishCompleted(Completion, Result<MQTTPublishResult, MQTTError>)
        case subscribeCompleted(Completion, Result<[MQTTReasonCode], MQTTError>)
        case unsubscribeCompleted(Completion, Result<[MQTTReasonCode], MQTTError>)
        /// Hand a message to the subscriptions. `inbound` is the packet identifier of a QoS 1/2
        /// publish whose PUBACK / PUBREC waits for ``acknowledgeInbound(_:generation:)``.
        case deliver(MQTTMessage, inbound: UInt16?)
        /// The broker accepted the connection; `resent` publishes and PUBRELs of a resumed session follow.
        case connected(sessionPresent: Bool, properties: MQTTProperties, resent: Int)
        /// Close the connection; `nil` is a clean, requested close.
        case close(MQTTError?)
        /// Ask the application to answer an AUTH challenge (then ``answerAuthentication(_:isReauthentication:)``).
        case authenticate(MQTTAuthenticationChallenge)
        /// The publish queue is full and the first publish of this overflow was dropped by policy.
        case queueOverflowing(dropped: Int)
        /// A re-authentication ended with the broker's reason code.
        case reauthenticated(Completion, Result<MQTTReasonCode, MQTTError>)
    }

    /// Where the connection is, with what belongs to that phase only.
    enum State: Equatable {
        case idle
        /// CONNECT went out at `since`; waiting for CONNACK.
        case connecting(since: ContinuousClock.Instant)
        /// Established; `pingSent` is when the PINGREQ still unanswered went out, if one is.
        case connected(pingSent: ContinuousClock.Instant?)
        case disconnected
        case closed

        var isConnecting: Bool { if case .connecting = self { true } else { false } }
        var isConnected: Bool { if case .connected = self { true } else { false } }
    }

    enum Stage { case awaitingPubAck, awaitingPubRec, awaitingPubComp }

    struct Outbound {
        var packet: PublishPacket
        var completion: Completion
        var stage: Stage
    }

    struct InboundPending {
        var qos: MQTTQoS
        /// Acknowledgements still expected; zero for a QoS 2 message the application accepted
        /// while no connection could carry the PUBREC (answered when the broker resends it).
        var remaining: Int
        /// The connection it was delivered on: the application's acknowledgement names it, so an
        /// acknowledgement never lands on a later message that reuses the packet identifier.
        var generation: UInt64
    }

    struct Queued {
        var packet: PublishPacket
        var completion: Completion
    }

    let configuration: Configuration
    var state: State = .idle
    var outbound: [UInt16: Outbound] = [:]
    var pendingSubscribes: [UInt16: (completion: Completion, count: Int)] = [:]
    var pendingUnsubscribes: [UInt16: (completion: Completion, count: Int)] = [:]
    var queue = CircularBuffer<Queued>()
    /// Inbound QoS 2 publishes answered with PUBREC and awaiting PUBREL (kept across a resumed session).
    var inboundQoS2: Set<UInt16> = []
    /// Inbound QoS 1/2 publishes delivered but not yet acknowledged to the broker, with the number
    /// of acknowledgements still expected.
    ///
    /// QoS 1 entries end with their connection: the broker resends the message with DUP on a
    /// resumed session [MQTT-4.4.0-1] and it is delivered again (at least once). QoS 2 entries
    /// outlive the connection while the session may resume: the packet identifier stays ours until
    /// we send PUBREC, so the broker's resend is the same message and is merged into the copy the
    /// application holds instead of being delivered twice (exactly once).
    var inboundPending: [UInt16: InboundPending] = [:]
    /// Counts connections; an acknowledgement made for an earlier connection is not sent.
    var generation: UInt64 = 0
    /// The re-authentication in progress, if any.
    var reauthentication: Completion?
    var topicAliases: [UInt16: String] = [:]
    var nextPacketID: UInt16 = 1
    /// Effective cap on outbound QoS 1/2 in flight (ours, lowered by the broker's Receive Maximum).
    var sendQuota: Int
    var serverMaximumPacketSize: Int = ByteBuffer.maxVariableByteInteger + 5
    var serverMaximumQoS: MQTTQoS = .exactlyOnce
    var keepAlive: Duration
    var lastSent: ContinuousClock.Instant?
    /// The Clean Start flag of the latest CONNECT.
    var startedClean = true
    /// With resumption and a clean start: the connection that discarded any earlier session is done.
    var sessionResetDone = false
    /// The latest connection only resets the session (see ``isResettingSession``).
    var connectionIsSessionReset = false
    /// Drops by policy, counted for metrics.
    var droppedCount = 0
    /// Dropping since the queue was last below its capacity.
    var overflowing = false
    /// PINGRESPs received on this session (observability and tests).
    var pingResponses = 0

    init(configuration: Configuration) {
        self.configuration = configuration
        self.sendQuota = max(1, configuration.maxInFlight)
        self.keepAlive = configuration.keepAlive
    }

    var inFlightCount: Int { outbound.count }
    var queueDepth: Int { queue.count }
    var queueHasSpace: Bool { queue.count < configuration.queueCapacity }
    var isV5: Bool { configuration.version == .v5 }

    // MARK: connect

    /// Starts a connection attempt on a freshly opened transport: sends CONNECT.
    mutating func connect(now: ContinuousClock.Instant) -> [Action] {
        precondition(state == .idle || state == .disconnected, "connect() while \(state)")
        state = .connecting(since: now)
        generation += 1
        connectionIsSessionReset = isResettingSession
        startedClean = startsClean
        inboundPending = startedClean ? [:] : inboundPending.filter { $0.value.qos == .exactlyOnce }
        lastSent = now
        topicAliases = [:]
        var props: MQTTProperties = []
        if isV5 {
            if requestedSessionExpiry > 0 { props.append(.sessionExpiryInterval(requestedSessionExpiry)) }
            if configuration.receiveMaximum != 65_535 { props.append(.receiveMaximum(configuration.receiveMaximum)) }
            props.append(.maximumPacketSize(configuration.maximumPacketSize))
            if configuration.topicAliasMaximum > 0 { props.append(.topicAliasMaximum(configuration.topicAliasMaximum)) }
            if let method = configuration.authenticationMethod {
                props.append(.authenticationMethod(method))
                if let data = configuration.authenticationData { props.append(.authenticationData(data)) }
            }
        }
        let seconds = UInt16(clamping: configuration.keepAlive.components.seconds)
        return [
            .send(
                .connect(
                    ConnectPacket(
                        version: configuration.version, clientID: configuration.clientID, cleanStart: startedClean,
                        keepAliveSeconds: seconds, username: configuration.username, password: configuration.password,
                        will: configuration.will, properties: props)))
        ]
    }

    mutating func connAckReceived(_ ack: ConnAckPacket, now: ContinuousClock.Instant) -> [Action] {
        guard state.isConnecting else { return violation("CONNACK while \(state) [MQTT-3.2.0-2]") }
        if ack.reasonCode.isFailure {
            let meaning = ack.reasonCode.refusalMeaning.map { ": \($0)" } ?? ""
            let error =
                ack.reasonCode == .unsupportedProtocolVersion
                ? MQTTError.versionRefused(configuration.version, reasonCode: ack.reasonCode)
                : MQTTError(.connectionRefused, "broker refused the connection\(meaning)", reasonCode: ack.reasonCode)
            if ack.reasonCode.isTransientRefusal && configuration.keepMessagesWhenDisconnected {
                // "Not now" with a reconnect to come: the session and what waits in it stay for
                // the next attempt (the connection ends like a lost one).
                return [.close(error)]
            }
            state = .closed
            return failEverything(error) + [.close(error)]
        }
        if let method = configuration.authenticationMethod, isV5, ack.properties.authenticationMethod != method {
            return violation("CONNACK without the authentication method of CONNECT [MQTT-4.12.0-5]")
        }
        if connectionIsSessionReset {
            // Any earlier session is gone now; the session to keep starts on the next connection.
            sessionResetDone = true
            return [.send(.disconnect(ReasonPacket())), .close(nil)]
        }
        state = .connected(pingSent: nil)
        let p = ack.properties
        sendQuota = max(1, min(configuration.maxInFlight, Int(p.receiveMaximum ?? 65_535)))
        if let max = p.maximumPacketSize { serverMaximumPacketSize = Int(max) }
        if let qos = p.maximumQoS { serverMaximumQoS = MQTTQoS(rawValue: qos) ?? .exactlyOnce }
        if let ka = p.serverKeepAlive { keepAlive = .seconds(Int(ka)) }
        var actions: [Action] = [.connected(sessionPresent: ack.sessionPresent, properties: p, resent: 0)]
        if ack.sessionPresent && !startedClean {
            // [MQTT-4.4.0-1]: resend unacknowledged PUBLISH (with DUP) and PUBREL in the original order.
            for id in outbound.keys.sorted() {
                let entry = outbound[id]!
                switch entry.stage {
                case .awaitingPubAck, .awaitingPubRec:
                    var packet = entry.packet
                    packet.dup = true
                    outbound[id]!.packet.dup = true
                    actions.append(.send(.publish(packet)))
                case .awaitingPubComp:
                    actions.append(.send(.pubrel(AckPacket(packetID: id))))
                }
            }
            actions[0] = .connected(sessionPresent: true, properties: p, resent: outbound.count)
        } else {
            // No session on the broker: in-flight state is gone. Messages not yet released to the
            // broker (no PUBREC) are sent again as new publishes; QoS 2 after PUBREC is failed —
            // resending could deliver twice, dropping it silently would break the outcome promise.
            // Inbound QoS 2 state went with the session: nothing will be resent to merge with.
            inboundQoS2 = []
            inboundPending = [:]
            let requeued = outbound.values.filter { $0.stage != .awaitingPubComp }.count
            if requeued > 0 {
                actions[0] = .connected(sessionPresent: ack.sessionPresent, properties: p, resent: requeued)
            }
            for id in outbound.keys.sorted() {
                let entry = outbound.removeValue(forKey: id)!
                if entry.stage == .awaitingPubComp {
                    actions.append(
                        .publishCompleted(
                            entry.completion,
                            .failure(
                                MQTTError(.sessionLost, "the broker lost the session before PUBCOMP"))))
                } else {
                    var packet = entry.packet
                    packet.dup = false
                    packet.packetID = nil
                    queue.prepend(Queued(packet: packet, completion: entry.completion))
                }
            }
        }
        lastSent = now
        actions += drainQueue()
        return actions
    }

    /// Whether the next connection only discards the broker's earlier session (then disconnects).
    ///
    /// A clean start that reconnects must resume: so the session is started clean on a connection
    /// of its own (Clean Start 1: whatever an earlier client with this identifier left is gone),
    /// and every connection after it has Clean Start 0. A session that began with Clean Start 1 is
    /// one no reconnect can count on: a 3.1.1 clean session ends with its connection, and
    /// mosquitto 2.0 does not save an MQTT 5 one across a restart even with a session expiry.
    var isResettingSession: Bool {
        configuration.resumeSessionOnReconnect && configuration.cleanStart && !sessionResetDone
    }

    /// Clean Start for the next CONNECT.
    var startsClean: Bool {
        configuration.resumeSessionOnReconnect ? isResettingSession : configuration.cleanStart
    }

    /// MQTT 5 Session Expiry Interval of CONNECT: long enough to resume after a lost connection.
    var requestedSessionExpiry: UInt32 {
        guard configuration.resumeSessionOnReconnect else { return configuration.sessionExpiry }
        if isResettingSession { return 0 }
        return max(configuration.sessionExpiry, configuration.resumableSessionExpiry)
    }

    // MARK: helpers

    mutating func allocatePacketID() -> UInt16? {
        for _ in 0..<65_535 {
            let id = nextPacketID
            nextPacketID = nextPacketID == 65_535 ? 1 : nextPacketID + 1
            if outbound[id] == nil && pendingSubscribes[id] == nil && pendingUnsubscribes[id] == nil { return id }
        }
        return nil
    }

    func violation(_ message: String, code: MQTTReasonCode = .protocolError) -> [Action] {
        [.close(MQTTError(.protocolViolation, message, reasonCode: code))]
    }

    /// Fails every waiter with `error`. Used when the session ends for good.
    mutating func failEverything(_ error: MQTTError) -> [Action] {
        var actions: [Action] = []
        for id in outbound.keys.sorted() {
            actions.append(.publishCompleted(outbound[id]!.completion, .failure(error)))
        }
        outbound = [:]
        while let q = queue.popFirst() { actions.append(.publishCompleted(q.completion, .failure(error))) }
        for (_, p) in pendingSubscribes { actions.append(.subscribeCompleted(p.completion, .failure(error))) }
        for (_, p) in pendingUnsubscribes { actions.append(.unsubscribeCompleted(p.completion, .failure(error))) }
        pendingSubscribes = [:]
        pendingUnsubscribes = [:]
        if let r = reauthentication { actions.append(.reauthenticated(r, .failure(error))) }
        reauthentication = nil
        return actions
    }

    /// Sends queued publishes while connected and within the send quota.
    mutating func drainQueue() -> [Action] {
        guard state.isConnected else { return [] }
        var actions: [Action] = []
        while let first = queue.first {
            if first.packet.qos == .atMostOnce {
                queue.removeFirst()
                actions.append(.sendQoS0(.publish(first.packet), first.completion))
                continue
            }
            guard outbound.count < sendQuota, let id = allocatePacketID() else { break }
            queue.removeFirst()
            var packet = first.packet
            packet.packetID = id
            outbound[id] = Outbound(
                packet: packet, completion: first.completion,
                stage: packet.qos == .atLeastOnce ? .awaitingPubAck : .awaitingPubRec)
            actions.append(.send(.publish(packet)))
        }
        if queue.count < configuration.queueCapacity { overflowing = false }
        return actions
    }

    /// Counts a drop by policy; the first since the queue last had room is reported.
    mutating func countDrop() -> [Action] {
        droppedCount += 1
        guard !overflowing else { return [] }
        overflowing = true
        return [.queueOverflowing(dropped: droppedCount)]
    }
}
