import NIOCore
import Testing
@testable import VirtualBusMQTT

typealias SM = MQTTConnectionStateMachine<Int>

/// Helpers to read actions without a switch in every test.
extension SM.Action {
    var sent: MQTTPacket? {
        switch self {
        case .send(let p), .sendQoS0(let p, _): p
        default: nil
        }
    }

    var publishOutcome: (Int, Result<MQTTPublishResult, MQTTError>)? {
        if case .publishCompleted(let c, let r) = self { (c, r) } else { nil }
    }

    var closeError: MQTTError?? {
        if case .close(let e) = self { .some(e) } else { nil }
    }
}

@Suite("Connection state machine (no I/O)")
struct StateMachineTests {
    let t0 = ContinuousClock.now

    func connected(
        _ configure: (inout SM.Configuration) -> Void = { _ in }, receiveMaximum: UInt16? = nil,
        version: MQTTProtocolVersion = .v5
    ) -> SM {
        var config = SM.Configuration()
        config.version = version
        config.clientID = "c"
        configure(&config)
        var sm = SM(configuration: config)
        let a = sm.connect(now: t0)
        guard case .connect = a.first?.sent else { Issue.record("no CONNECT"); return sm }
        let props: MQTTProperties = receiveMaximum.map { [.receiveMaximum($0)] } ?? []
        let b = sm.received(
            .connack(ConnAckPacket(sessionPresent: false, reasonCode: .success, properties: props)), now: t0)
        #expect(sm.state.isConnected)
        guard case .connected = b.first else { Issue.record("no connected action"); return sm }
        return sm
    }

    func publish(_ qos: MQTTQoS) -> PublishPacket {
        PublishPacket(topic: "t", payload: ByteBuffer(bytes: [1]), qos: qos)
    }

    @Test(
        "refused CONNACK fails the connection with the broker's reason", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func refused(version: MQTTProtocolVersion) {
        var config = SM.Configuration()
        config.version = version
        var sm = SM(configuration: config)
        _ = sm.connect(now: t0)
        _ = sm.publish(publish(.atLeastOnce), completion: 1)
        let a = sm.received(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .notAuthorized)), now: t0)
        #expect(a.contains { $0.publishOutcome?.0 == 1 })
        #expect(a.last?.closeError??.reasonCode == .notAuthorized)
    }

    @Test("a 'not now' refusal keeps the session for the next attempt; other refusals end it")
    func transientRefusal() {
        var config = SM.Configuration()
        config.keepMessagesWhenDisconnected = true
        var sm = SM(configuration: config)
        _ = sm.connect(now: t0)
        _ = sm.publish(publish(.atLeastOnce), completion: 1)
        let busy = sm.received(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .serverBusy)), now: t0)
        #expect(!busy.contains { $0.publishOutcome != nil }, "the queued publish failed")
        #expect(busy.last?.closeError??.reasonCode == .serverBusy)
        _ = sm.connectionClosed(error: nil)
        _ = sm.connect(now: t0)  // a precondition failure if the refusal had closed the machine
        let accepted = sm.received(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .success)), now: t0)
        #expect(
            accepted.contains { $0.sent.map { if case .publish = $0 { true } else { false } } ?? false },
            "the queued publish was not sent")
        _ = sm.connectionClosed(error: nil)
        _ = sm.connect(now: t0)
        _ = sm.received(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .banned)), now: t0)
        #expect(sm.state == .closed)
    }

    @Test("packets before CONNACK are a protocol violation [MQTT-3.2.0-1]")
    func beforeConnAck() {
        var sm = SM(configuration: .init())
        _ = sm.connect(now: t0)
        let a = sm.received(.puback(AckPacket(packetID: 1)), now: t0)
        #expect(a.last?.closeError??.code == .protocolViolation)
    }

    @Test("QoS 1 completes on PUBACK with the reason code; QoS 2 on PUBREC -> PUBREL -> PUBCOMP")
    func qosFlows() throws {
        var sm = connected()
        let a = sm.publish(publish(.atLeastOnce), completion: 1)
        guard case .publish(let p1) = a.first?.sent else { Issue.record("no PUBLISH"); return }
        let id1 = try #require(p1.packetID)
        let done = sm.received(.puback(AckPacket(packetID: id1, reasonCode: .noMatchingSubscribers)), now: t0)
        #expect(try done.first?.publishOutcome?.1.get().reasonCode == .noMatchingSubscribers)

        let b = sm.publish(publish(.exactlyOnce), completion: 2)
        guard case .publish(let p2) = b.first?.sent else { Issue.record("no PUBLISH"); return }
        let id2 = try #require(p2.packetID)
        #expect(id2 != id1 || sm.outbound[id1] == nil)
        let rel = sm.received(.pubrec(AckPacket(packetID: id2)), now: t0)
        #expect(rel.first?.sent == .pubrel(AckPacket(packetID: id2)))
        #expect(sm.inFlightCount == 1)
        let comp = sm.received(.pubcomp(AckPacket(packetID: id2)), now: t0)
        #expect(comp.first?.publishOutcome?.0 == 2)
        #expect(sm.inFlightCount == 0)
    }

    @Test("a failure reason code fails the publish as brokerRejected")
    func brokerRejected() throws {
        var sm = connected()
        guard case .publish(let p) = sm.publish(publish(.atLeastOnce), completion: 1).first?.sent else { return }
        let a = sm.received(.puback(AckPacket(packetID: p.packetID!, reasonCode: .notAuthorized)), now: t0)
        #expect(throws: MQTTError(.brokerRejected, "the broker rejected the publish", reasonCode: .notAuthorized)) {
            try a.first?.publishOutcome?.1.get()
        }
    }

    @Test("unknown packet identifiers and wrong-stage acks are protocol violations")
    func unknownIDs() {
        for packet: MQTTPacket in [
            .puback(AckPacket(packetID: 9)), .pubrec(AckPacket(packetID: 9)), .pubcomp(AckPacket(packetID: 9)),
            .suback(SubAckPacket(packetID: 9, reasonCodes: [.success])),
            .unsuback(SubAckPacket(packetID: 9, reasonCodes: [])), .pingreq, .auth(ReasonPacket()),
        ] {
            var sm = connected()
            let a = sm.received(packet, now: t0)
            #expect(a.last?.closeError??.code == .protocolViolation, "\(packet.name)")
        }
        // PUBCOMP for a QoS 1 id (wrong stage)
        var sm = connected()
        guard case .publish(let p) = sm.publish(publish(.atLeastOnce), completion: 1).first?.sent else { return }
        #expect(
            sm.received(.pubcomp(AckPacket(packetID: p.packetID!)), now: t0).last?.closeError??.code
                == .protocolViolation)
    }

    @Test("packet identifiers are never reused while in flight")
    func packetIDs() throws {
        var sm = connected { $0.queueCapacity = 0 }
        var inFlight = Set<UInt16>()
        var rng = SystemRandomNumberGenerator()
        for i in 0..<200_000 {
            if inFlight.count < 60_000 && (inFlight.isEmpty || Bool.random(using: &rng)) {
                guard case .publish(let p) = sm.publish(publish(.atLeastOnce), completion: i).first?.sent else {
                    Issue.record("no publish at \(i)")
                    return
                }
                let id = try #require(p.packetID)
                #expect(!inFlight.contains(id))
                inFlight.insert(id)
            } else {
                let id = inFlight.randomElement(using: &rng)!
                inFlight.remove(id)
                _ = sm.received(.puback(AckPacket(packetID: id)), now: t0)
            }
        }
        #expect(sm.inFlightCount == inFlight.count)
    }

    @Test("Receive Maximum bounds in-flight publishes; the rest queue and go out as acks arrive")
    func receiveMaximum() throws {
        var sm = connected(receiveMaximum: 2)
        var sentIDs: [UInt16] = []
        for i in 0..<5 {
            for a in sm.publish(publish(.atLeastOnce), completion: i) {
                if case .publish(let p) = a.sent { sentIDs.append(p.packetID!) }
            }
        }
        #expect(sentIDs.count == 2)
        #expect(sm.queueDepth == 3)
        let a = sm.received(.puback(AckPacket(packetID: sentIDs[0])), now: t0)
        #expect(a.count == 2)  // completion + the next publish
        #expect(sm.inFlightCount == 2 && sm.queueDepth == 2)
    }

    @Test(
        "queue policies: fail fast, drop newest, drop oldest",
        arguments: [MQTTQueuePolicy.failFast, .dropNewest, .dropOldest])
    func policies(policy: MQTTQueuePolicy) {
        var sm = SM(
            configuration: {
                var c = SM.Configuration(); c.queueCapacity = 2; c.queuePolicy = policy; return c
            }())
        #expect(sm.publish(publish(.atLeastOnce), completion: 1).isEmpty)
        #expect(sm.publish(publish(.atLeastOnce), completion: 2).isEmpty)
        let a = sm.publish(publish(.atLeastOnce), completion: 3)
        let (who, result) = try! #require(a.first?.publishOutcome)
        switch policy {
        case .failFast:
            #expect(who == 3)
            #expect(throws: MQTTError.self) { try result.get() }
            #expect(sm.droppedCount == 0)
        case .dropNewest:
            #expect(who == 3)
            #expect(sm.droppedCount == 1)
        default:
            #expect(who == 1)
            #expect(sm.droppedCount == 1)
        }
        #expect(sm.queueDepth == 2)
        // An overflow is reported once, at its first drop, not for every message it drops.
        let overflowReports = { (actions: [SM.Action]) in
            actions.count { if case .queueOverflowing = $0 { true } else { false } }
        }
        #expect(overflowReports(a) == (policy == .failFast ? 0 : 1))
        #expect(overflowReports(sm.publish(publish(.atLeastOnce), completion: 4)) == 0)
    }

    @Test("inbound QoS 2 is delivered exactly once; PUBREL releases the id [MQTT-4.3.3-9]")
    func inboundQoS2() {
        var sm = connected()
        let p = PublishPacket(topic: "x", payload: ByteBuffer(bytes: [7]), qos: .exactlyOnce, packetID: 5)
        let first = sm.received(.publish(p), now: t0)
        guard case .deliver(let m, inbound: 5) = first.first else { Issue.record("not delivered"); return }
        #expect(m.payload == [7])
        #expect(sm.expectAcknowledgements(0, for: 5).first?.sent == .pubrec(AckPacket(packetID: 5)))
        var dup = p
        dup.dup = true
        let second = sm.received(.publish(dup), now: t0)
        #expect(second.count == 1 && second.first?.sent == .pubrec(AckPacket(packetID: 5)))
        #expect(sm.received(.pubrel(AckPacket(packetID: 5)), now: t0).first?.sent == .pubcomp(AckPacket(packetID: 5)))
        guard case .deliver = sm.received(.publish(p), now: t0).first else {
            Issue.record("new message after PUBREL not delivered"); return
        }
    }

    @Test("topic aliases from the broker are resolved and bounded")
    func topicAlias() {
        var sm = connected { $0.topicAliasMaximum = 4 }
        let set = PublishPacket(
            topic: "long/topic", payload: ByteBuffer(), qos: .atMostOnce, properties: [.topicAlias(3)])
        _ = sm.received(.publish(set), now: t0)
        let use = PublishPacket(topic: "", payload: ByteBuffer(), qos: .atMostOnce, properties: [.topicAlias(3)])
        guard case .deliver(let m, _) = sm.received(.publish(use), now: t0).first else {
            Issue.record("alias not resolved"); return
        }
        #expect(m.topic.name == "long/topic")
        let bad = PublishPacket(topic: "", payload: ByteBuffer(), qos: .atMostOnce, properties: [.topicAlias(5)])
        #expect(sm.received(.publish(bad), now: t0).last?.closeError??.reasonCode == .topicAliasInvalid)
    }

    @Test("keep-alive: PINGREQ within the interval (at three quarters), timeout without PINGRESP (injected clock)")
    func keepAlive() {
        var sm = connected { $0.keepAlive = .seconds(10) }
        #expect(sm.tick(now: t0 + .seconds(7), connectTimeout: .seconds(5)).isEmpty)
        #expect(sm.tick(now: t0 + .milliseconds(7_500), connectTimeout: .seconds(5)).first?.sent == .pingreq)
        #expect(sm.tick(now: t0 + .seconds(9), connectTimeout: .seconds(5)).isEmpty)
        _ = sm.received(.pingresp, now: t0 + .milliseconds(9_500))
        #expect(sm.tick(now: t0 + .seconds(14), connectTimeout: .seconds(5)).isEmpty)
        #expect(sm.tick(now: t0 + .seconds(15), connectTimeout: .seconds(5)).first?.sent == .pingreq)
        #expect(sm.tick(now: t0 + .seconds(24), connectTimeout: .seconds(5)).isEmpty)
        let dead = sm.tick(now: t0 + .seconds(25), connectTimeout: .seconds(5))
        #expect(dead.first?.closeError??.code == .keepAliveTimeout)
    }

    @Test("connect timeout without CONNACK")
    func connectTimeout() {
        var sm = SM(configuration: .init())
        _ = sm.connect(now: t0)
        #expect(sm.tick(now: t0 + .seconds(1), connectTimeout: .seconds(2)).isEmpty)
        #expect(
            sm.tick(now: t0 + .seconds(2), connectTimeout: .seconds(2)).first?.closeError??.code == .connectionFailed)
    }

    @Test("every accepted publish gets exactly one outcome on connection loss and shutdown")
    func outcomesOnLossAndShutdown() {
        var sm = connected(receiveMaximum: 3)
        var outcomes: [Int: Int] = [:]
        func count(_ actions: [SM.Action]) {
            for a in actions {
                if let (c, _) = a.publishOutcome { outcomes[c, default: 0] += 1 }
                if case .sendQoS0(_, let c) = a { outcomes[c, default: 0] += 1 }
            }
        }
        for i in 0..<10 { count(sm.publish(publish(i % 3 == 0 ? .atMostOnce : .exactlyOnce), completion: i)) }
        count(sm.connectionClosed(error: nil))
        for i in 10..<20 { count(sm.publish(publish(.atLeastOnce), completion: i)) }
        count(sm.shutdown())
        for i in 20..<25 { count(sm.publish(publish(.atLeastOnce), completion: i)) }
        #expect(outcomes.count == 25)
        #expect(outcomes.values.allSatisfy { $0 == 1 })
        #expect(sm.inFlightCount == 0 && sm.queueDepth == 0)
    }

    @Test("reconnect with a present session resends unacknowledged PUBLISH with DUP and PUBREL [MQTT-4.4.0-1]")
    func resend() throws {
        var sm = connected {
            $0.cleanStart = false
            $0.keepMessagesWhenDisconnected = true
        }
        guard case .publish(let a) = sm.publish(publish(.atLeastOnce), completion: 1).first?.sent,
            case .publish(let b) = sm.publish(publish(.exactlyOnce), completion: 2).first?.sent
        else { return }
        _ = sm.received(.pubrec(AckPacket(packetID: b.packetID!)), now: t0)
        #expect(sm.connectionClosed(error: nil).isEmpty)
        _ = sm.connect(now: t0)
        let actions = sm.received(.connack(ConnAckPacket(sessionPresent: true, reasonCode: .success)), now: t0)
        var dupA = a
        dupA.dup = true
        #expect(actions.contains { $0.sent == .publish(dupA) })
        #expect(actions.contains { $0.sent == .pubrel(AckPacket(packetID: b.packetID!)) })
        #expect(sm.inFlightCount == 2)
    }
}
