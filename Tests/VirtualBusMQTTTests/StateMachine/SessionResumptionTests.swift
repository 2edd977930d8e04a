import NIOCore
import Testing
@testable import VirtualBusMQTT

/// Reconnects that resume the session: what CONNECT and DISCONNECT say, and what becomes of the
/// publishes in flight when the connection broke (no I/O; the broker restart tests run it for real).
@Suite("Session resumption on reconnect (no I/O)")
struct SessionResumptionTests {
    let t0 = ContinuousClock.now

    func machine(_ version: MQTTProtocolVersion, resume: Bool, sessionExpiry: UInt32 = 0) -> SM {
        var config = SM.Configuration()
        config.version = version
        config.clientID = "bridge"
        config.sessionExpiry = sessionExpiry
        config.keepMessagesWhenDisconnected = true
        config.resumeSessionOnReconnect = resume
        config.resumableSessionExpiry = 600
        return SM(configuration: config)
    }

    func connect(_ sm: inout SM, sessionPresent: Bool) throws -> (connect: ConnectPacket, connAck: [SM.Action]) {
        guard case .connect(let packet) = sm.connect(now: t0).first?.sent else { throw TestFailure("no CONNECT") }
        let actions = sm.received(
            .connack(ConnAckPacket(sessionPresent: sessionPresent, reasonCode: .success)), now: t0)
        return (packet, actions)
    }

    /// The first connection of a clean start that reconnects: Clean Start 1 and no session expiry,
    /// so whatever an earlier client left is gone and nothing of this one outlives it; it
    /// disconnects at CONNACK, reporting no connection.
    func resetSession(_ sm: inout SM) throws {
        let (packet, actions) = try connect(&sm, sessionPresent: false)
        #expect(packet.cleanStart)
        #expect(packet.properties.sessionExpiryInterval == nil)
        #expect(actions.compactMap(\.sent) == [.disconnect(ReasonPacket())])
        #expect(actions.last?.closeError == .some(nil), "a requested close")
        #expect(!actions.contains { if case .connected = $0 { true } else { false } })
        #expect(sm.connectionClosed(error: nil).isEmpty)
    }

    /// A QoS 1 publish awaiting PUBACK and a QoS 2 one past PUBREC (its PUBREL sent).
    func twoInFlight(_ sm: inout SM) throws -> (qos1: PublishPacket, qos2ID: UInt16) {
        let publish = { (qos: MQTTQoS) in PublishPacket(topic: "t", payload: ByteBuffer(bytes: [1]), qos: qos) }
        guard case .publish(let a) = sm.publish(publish(.atLeastOnce), completion: 1).first?.sent,
            case .publish(let b) = sm.publish(publish(.exactlyOnce), completion: 2).first?.sent,
            let id = b.packetID
        else { throw TestFailure("no PUBLISH") }
        _ = sm.received(.pubrec(AckPacket(packetID: id)), now: t0)
        return (a, id)
    }

    @Test(
        """
        MQTT 5: a session reset, then Clean Start 0 every time; the session outlives a lost connection, not a \
        graceful end
        """
    )
    func v5() throws {
        var sm = machine(.v5, resume: true)
        try resetSession(&sm)
        let first = try connect(&sm, sessionPresent: false).connect
        #expect(!first.cleanStart)
        #expect(first.properties.sessionExpiryInterval == 600)
        let (qos1, qos2ID) = try twoInFlight(&sm)
        _ = sm.connectionClosed(error: MQTTError(.connectionFailed, "broker restarted"))

        let (second, actions) = try connect(&sm, sessionPresent: true)
        #expect(!second.cleanStart)
        #expect(second.properties.sessionExpiryInterval == 600)
        var dup = qos1
        dup.dup = true
        #expect(actions.contains { $0.sent == .publish(dup) }, "QoS 1 in flight is resent with DUP")
        #expect(
            actions.contains { $0.sent == .pubrel(AckPacket(packetID: qos2ID)) }, "QoS 2 past PUBREC is released again")
        #expect(!actions.contains { $0.publishOutcome != nil }, "nothing failed: \(actions)")

        guard case .disconnect(let disconnect) = sm.shutdown().compactMap(\.sent).last else {
            throw TestFailure("no DISCONNECT")
        }
        #expect(disconnect.properties.sessionExpiryInterval == 0, "the graceful end keeps the configured expiry (0)")
    }

    @Test("resuming a session the application asked for (Clean Start 0) needs no reset")
    func noResetWithoutCleanStart() throws {
        var config = SM.Configuration()
        config.cleanStart = false
        config.sessionExpiry = 60
        config.keepMessagesWhenDisconnected = true
        config.resumeSessionOnReconnect = true
        var sm = SM(configuration: config)
        let (packet, actions) = try connect(&sm, sessionPresent: true)
        #expect(!packet.cleanStart)
        #expect(actions.contains { if case .connected = $0 { true } else { false } })
    }

    @Test("MQTT 5: a configured expiry longer than the window is sent as it is, and DISCONNECT leaves it")
    func v5LongerExpiry() throws {
        var sm = machine(.v5, resume: true, sessionExpiry: 7_200)
        try resetSession(&sm)
        #expect(try connect(&sm, sessionPresent: false).connect.properties.sessionExpiryInterval == 7_200)
        guard case .disconnect(let disconnect) = sm.shutdown().compactMap(\.sent).last else {
            throw TestFailure("no DISCONNECT")
        }
        #expect(disconnect.properties.sessionExpiryInterval == nil)
    }

    @Test("MQTT 3.1.1: a session reset, then every CONNECT keeps the session (a clean 3.1.1 session cannot be resumed)")
    func v311() throws {
        var sm = machine(.v3_1_1, resume: true)
        try resetSession(&sm)
        #expect(try !connect(&sm, sessionPresent: false).connect.cleanStart)
        let (_, qos2ID) = try twoInFlight(&sm)
        _ = sm.connectionClosed(error: nil)
        let (second, actions) = try connect(&sm, sessionPresent: true)
        #expect(!second.cleanStart)
        #expect(actions.contains { $0.sent == .pubrel(AckPacket(packetID: qos2ID)) })
    }

    @Test("without resumption a reconnect starts clean: QoS 2 past PUBREC fails as session lost, QoS 1 is sent anew")
    func noResumption() throws {
        var sm = machine(.v5, resume: false)
        _ = try connect(&sm, sessionPresent: false)
        let (qos1, _) = try twoInFlight(&sm)
        _ = sm.connectionClosed(error: nil)
        let (second, actions) = try connect(&sm, sessionPresent: false)
        #expect(second.cleanStart)
        #expect(second.properties.sessionExpiryInterval == nil)
        #expect(actions.contains { $0.publishOutcome.map { $0.0 == 2 && (try? $0.1.get()) == nil } ?? false })
        #expect(
            actions.contains {
                guard case .publish(let p) = $0.sent else { return false }
                return p.qos == .atLeastOnce && !p.dup && p.payload == qos1.payload
            })
    }

    @Test("a resumed session the broker lost (restart without persistence) falls back to a new one")
    func brokerLostTheSession() throws {
        var sm = machine(.v5, resume: true)
        try resetSession(&sm)
        _ = try connect(&sm, sessionPresent: false)
        _ = try twoInFlight(&sm)
        _ = sm.connectionClosed(error: nil)
        let (second, actions) = try connect(&sm, sessionPresent: false)
        #expect(!second.cleanStart)
        let failed = actions.compactMap(\.publishOutcome).filter { (try? $0.1.get()) == nil }
        #expect(failed.map(\.0) == [2], "only the QoS 2 publish past PUBREC cannot be known: \(actions)")
        #expect(failed.first.map { if case .failure(let e) = $0.1 { e.code == .sessionLost } else { false } } ?? false)
    }
}

/// A failed precondition of a test, thrown to end it with a message.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
