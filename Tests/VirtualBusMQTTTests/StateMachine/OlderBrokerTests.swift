import NIOCore
import Testing
@testable import VirtualBusMQTT

/// What brokers of MQTT 3.1.1 alone do that the specification does not foresee, handled without
/// I/O: the answers RabbitMQ, NATS and amqtt give (Tests/BrokerInteropTests meets the real ones).
@Suite("Brokers of 3.1.1 alone (codec and state machine, no I/O)")
struct OlderBrokerTests {
    let t0 = ContinuousClock.now

    @Test(
        """
        a two-byte 3.1.1 CONNACK, return code 1, in answer to MQTT 5.0 is 'unsupported protocol version' (3.1.1 \
        [MQTT-3.1.2-2])
        """
    )
    func olderConnAck() throws {
        var bytes = ByteBuffer(bytes: [0x20, 0x02, 0x00, 0x01])
        let packet = try MQTTPacketDecoder(version: .v5).decode(buffer: &bytes)
        #expect(
            packet
                == .connack(
                    ConnAckPacket(sessionPresent: false, reasonCode: .unsupportedProtocolVersion, properties: [])))
    }

    @Test("that CONNACK ends the connection with unsupportedProtocolVersion, naming 5.0 and 3.1.1")
    func refusalNamesTheVersion() {
        var config = SM.Configuration()
        config.clientID = "c"
        var sm = SM(configuration: config)
        _ = sm.connect(now: t0)
        let actions = sm.received(
            .connack(ConnAckPacket(sessionPresent: false, reasonCode: .unsupportedProtocolVersion)), now: t0)
        let error = actions.last?.closeError ?? nil
        #expect(error?.code == .unsupportedProtocolVersion)
        #expect(
            error?.message.contains("MQTT 5.0") == true && error?.message.contains("3.1.1") == true,
            "\(String(describing: error))")
    }

    /// A connected machine of `version` with one QoS 2 publish (completion 7) in flight: its packet id.
    private func qos2InFlight(_ version: MQTTProtocolVersion) -> (SM, UInt16)? {
        var config = SM.Configuration()
        config.version = version
        config.clientID = "c"
        var sm = SM(configuration: config)
        _ = sm.connect(now: t0)
        _ = sm.received(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .success)), now: t0)
        let sent = sm.publish(
            PublishPacket(topic: "t", payload: ByteBuffer(bytes: [1]), qos: .exactlyOnce), completion: 7)
        guard case .publish(let publish)? = sent.first?.sent, let id = publish.packetID else { return nil }
        return (sm, id)
    }

    @Test("3.1.1: PUBACK for a QoS 2 publish (RabbitMQ) completes it at QoS 1 instead of closing the connection")
    func qos2TakenAtQoS1() throws {
        var (sm, id) = try #require(qos2InFlight(.v3_1_1), "no PUBLISH")
        let actions = sm.received(.puback(AckPacket(packetID: id)), now: t0)
        guard let (completion, result) = actions.first?.publishOutcome, case .success(let outcome) = result else {
            Issue.record("not completed: \(actions)"); return
        }
        #expect(completion == 7 && outcome.qos == .atLeastOnce && sm.state.isConnected && sm.inFlightCount == 0)
    }

    @Test("5.0: the same PUBACK stays a protocol violation (a 5.0 broker announces Maximum QoS in CONNACK)")
    func qos2PubAckOnFive() throws {
        var (sm, id) = try #require(qos2InFlight(.v5), "no PUBLISH")
        #expect(sm.received(.puback(AckPacket(packetID: id)), now: t0).last?.closeError??.code == .protocolViolation)
    }
}
