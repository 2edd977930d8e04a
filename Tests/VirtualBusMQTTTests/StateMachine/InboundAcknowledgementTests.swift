import NIOCore
import Testing
@testable import VirtualBusMQTT

/// Inbound QoS 1/2 acknowledgement held back until the application accepts the message.
@Suite("Inbound acknowledgement (state machine, no I/O)")
struct InboundAcknowledgementTests {
    let t0 = ContinuousClock.now

    func connected(receiveMaximum: UInt16 = 65_535, sessionPresent: Bool = false) -> SM {
        var config = SM.Configuration()
        config.clientID = "c"
        config.cleanStart = false
        config.receiveMaximum = receiveMaximum
        var sm = SM(configuration: config)
        _ = sm.connect(now: t0)
        _ = sm.received(.connack(ConnAckPacket(sessionPresent: sessionPresent, reasonCode: .success)), now: t0)
        #expect(sm.state.isConnected)
        return sm
    }

    func inbound(_ qos: MQTTQoS, id: UInt16, dup: Bool = false) -> MQTTPacket {
        .publish(
            PublishPacket(
                topic: "t", payload: ByteBuffer(bytes: [UInt8(truncatingIfNeeded: id)]), qos: qos,
                dup: dup, packetID: id))
    }

    /// The delivered message and its inbound packet identifier, if the actions deliver one.
    func delivered(_ actions: [SM.Action]) -> (MQTTMessage, UInt16?)? {
        for case .deliver(let m, let id) in actions { return (m, id) }
        return nil
    }

    @Test("QoS 1: PUBACK only after the acknowledgement, and only once [MQTT-4.3.2]")
    func qos1() throws {
        var sm = connected()
        let (_, id) = try #require(delivered(sm.received(inbound(.atLeastOnce, id: 7), now: t0)))
        #expect(id == 7)
        #expect(sm.expectAcknowledgements(1, for: 7).isEmpty, "acknowledged before the application did")
        #expect(sm.acknowledgeInbound(7, generation: sm.generation).first?.sent == .puback(AckPacket(packetID: 7)))
        #expect(sm.acknowledgeInbound(7, generation: sm.generation).isEmpty, "acknowledged twice")
    }

    @Test("QoS 2: PUBREC after the acknowledgement; a DUP then is answered, not delivered [MQTT-4.3.3-9]")
    func qos2() throws {
        var sm = connected()
        _ = try #require(delivered(sm.received(inbound(.exactlyOnce, id: 3), now: t0)))
        #expect(sm.expectAcknowledgements(1, for: 3).isEmpty)
        // A retransmission while the application still holds the message: neither delivered nor answered.
        #expect(sm.received(inbound(.exactlyOnce, id: 3, dup: true), now: t0).isEmpty)
        #expect(sm.acknowledgeInbound(3, generation: sm.generation).first?.sent == .pubrec(AckPacket(packetID: 3)))
        let again = sm.received(inbound(.exactlyOnce, id: 3, dup: true), now: t0)
        #expect(delivered(again) == nil)
        #expect(again.first?.sent == .pubrec(AckPacket(packetID: 3)))
        #expect(sm.received(.pubrel(AckPacket(packetID: 3)), now: t0).first?.sent == .pubcomp(AckPacket(packetID: 3)))
    }

    @Test("a message delivered to two manual subscriptions is acknowledged when both acknowledged")
    func twoCopies() throws {
        var sm = connected()
        _ = try #require(delivered(sm.received(inbound(.atLeastOnce, id: 9), now: t0)))
        _ = sm.expectAcknowledgements(2, for: 9)
        #expect(sm.acknowledgeInbound(9, generation: sm.generation).isEmpty)
        #expect(sm.acknowledgeInbound(9, generation: sm.generation).first?.sent == .puback(AckPacket(packetID: 9)))
    }

    @Test(
        """
        an acknowledgement from an earlier connection is not sent; the DUP redelivery is delivered again \
        [MQTT-4.4.0-1]
        """
    )
    func acknowledgementAcrossReconnect() throws {
        var sm = connected()
        _ = try #require(delivered(sm.received(inbound(.atLeastOnce, id: 4), now: t0)))
        _ = sm.expectAcknowledgements(1, for: 4)
        let old = sm.generation
        _ = sm.connectionClosed(error: nil)
        #expect(sm.acknowledgeInbound(4, generation: old).isEmpty, "acknowledged on a closed connection")
        _ = sm.connect(now: t0)
        _ = sm.received(.connack(ConnAckPacket(sessionPresent: true, reasonCode: .success)), now: t0)
        #expect(sm.acknowledgeInbound(4, generation: old).isEmpty, "a stale identifier was acknowledged")
        let (m, id) = try #require(delivered(sm.received(inbound(.atLeastOnce, id: 4, dup: true), now: t0)))
        #expect(m.isDuplicate && id == 4)
        _ = sm.expectAcknowledgements(1, for: 4)
        #expect(sm.acknowledgeInbound(4, generation: sm.generation).first?.sent == .puback(AckPacket(packetID: 4)))
    }

    /// Ends the connection and resumes the session (or not) on a new one.
    func reconnect(_ sm: inout SM, sessionPresent: Bool = true) {
        _ = sm.connectionClosed(error: nil)
        _ = sm.connect(now: t0)
        _ = sm.received(.connack(ConnAckPacket(sessionPresent: sessionPresent, reasonCode: .success)), now: t0)
    }

    @Test(
        """
        QoS 2 held across a resumed session: the resend is merged, the late acknowledgement sends PUBREC on the \
        new connection
        """
    )
    func qos2HeldAcrossReconnect() throws {
        var sm = connected()
        _ = try #require(delivered(sm.received(inbound(.exactlyOnce, id: 6), now: t0)))
        _ = sm.expectAcknowledgements(1, for: 6)
        let old = sm.generation
        reconnect(&sm)
        #expect(sm.received(inbound(.exactlyOnce, id: 6, dup: true), now: t0).isEmpty, "the resend was delivered again")
        #expect(sm.acknowledgeInbound(6, generation: old).first?.sent == .pubrec(AckPacket(packetID: 6)))
        #expect(
            sm.received(inbound(.exactlyOnce, id: 6, dup: true), now: t0).first?.sent == .pubrec(AckPacket(packetID: 6))
        )
        #expect(sm.received(.pubrel(AckPacket(packetID: 6)), now: t0).first?.sent == .pubcomp(AckPacket(packetID: 6)))
        #expect(sm.inboundPending.isEmpty && sm.inboundQoS2.isEmpty)
    }

    @Test("QoS 2 acknowledged while disconnected: the broker's resend is answered with PUBREC, not delivered")
    func qos2AcknowledgedWhileDisconnected() throws {
        var sm = connected()
        _ = try #require(delivered(sm.received(inbound(.exactlyOnce, id: 8), now: t0)))
        _ = sm.expectAcknowledgements(1, for: 8)
        let old = sm.generation
        _ = sm.connectionClosed(error: nil)
        #expect(sm.acknowledgeInbound(8, generation: old).isEmpty, "sent on a closed connection")
        #expect(sm.acknowledgeInbound(8, generation: old).isEmpty, "counted twice")
        _ = sm.connect(now: t0)
        _ = sm.received(.connack(ConnAckPacket(sessionPresent: true, reasonCode: .success)), now: t0)
        let resend = sm.received(inbound(.exactlyOnce, id: 8, dup: true), now: t0)
        #expect(delivered(resend) == nil)
        #expect(resend.first?.sent == .pubrec(AckPacket(packetID: 8)))
    }

    @Test("QoS 2 state goes with a session the broker no longer has; a forgotten copy's resend is delivered again")
    func qos2SessionLostOrForgotten() throws {
        var sm = connected()
        _ = try #require(delivered(sm.received(inbound(.exactlyOnce, id: 2), now: t0)))
        _ = sm.expectAcknowledgements(1, for: 2)
        let old = sm.generation
        reconnect(&sm, sessionPresent: false)
        #expect(sm.inboundPending.isEmpty)
        #expect(sm.acknowledgeInbound(2, generation: old).isEmpty, "acknowledged a message of a session that is gone")
        // A new message reusing the identifier is not answered by the old copy's acknowledgement.
        _ = try #require(delivered(sm.received(inbound(.exactlyOnce, id: 2), now: t0)))
        _ = sm.expectAcknowledgements(1, for: 2)
        #expect(sm.acknowledgeInbound(2, generation: old).isEmpty)
        sm.forgetInbound(2, generation: sm.generation)
        reconnect(&sm)
        let (message, _) = try #require(delivered(sm.received(inbound(.exactlyOnce, id: 2, dup: true), now: t0)))
        #expect(message.isDuplicate)
    }

    @Test("a broker going past our Receive Maximum is tolerated (mosquitto 2.0.11 does), keyed by packet identifier")
    func pastReceiveMaximum() throws {
        var sm = connected(receiveMaximum: 2)
        for id: UInt16 in [1, 2, 3] {
            let actions = sm.received(inbound(id == 2 ? .exactlyOnce : .atLeastOnce, id: id), now: t0)
            #expect(delivered(actions)?.1 == id, "\(id) not delivered")
            #expect(!actions.contains { $0.closeError != nil }, "closed the connection")
            _ = sm.expectAcknowledgements(1, for: id)
        }
        #expect(sm.inboundPending.count == 3)
    }

    @Test("QoS 0 carries no inbound identifier; automatic routing acknowledges at once")
    func automatic() throws {
        var sm = connected()
        let (_, none) = try #require(
            delivered(
                sm.received(.publish(PublishPacket(topic: "t", payload: ByteBuffer(), qos: .atMostOnce)), now: t0)))
        #expect(none == nil)
        _ = try #require(delivered(sm.received(inbound(.atLeastOnce, id: 5), now: t0)))
        #expect(sm.expectAcknowledgements(0, for: 5).first?.sent == .puback(AckPacket(packetID: 5)))
    }

    @Test("a manual buffer never drops a message awaiting acknowledgement; QoS 0 overflow is dropped")
    func manualBuffer() {
        let core = ClientCore(configuration: MQTTClientConfiguration(host: "none", clientID: "buffer"))
        let buffer = MQTTSubscriptionBuffer(capacity: 2, dropOldest: true, keepsAcknowledged: true, onDrop: {})
        for id: UInt16 in 1...4 {
            var m = MQTTMessage(topic: "t", payload: [UInt8(id)], qos: .atLeastOnce)
            m.acknowledgement = MQTTInboundAcknowledgement(core: core, packetID: id, generation: 1)
            buffer.push(m)
        }
        #expect(buffer.depth == 4 && buffer.droppedCount == 0)
        buffer.push(MQTTMessage(topic: "t", payload: [0]))
        #expect(buffer.depth == 4 && buffer.droppedCount == 1)
    }
}
