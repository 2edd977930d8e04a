import NIOCore
import Testing
@testable import VirtualBusMQTT

/// Every packet type, both directions, both protocol versions: encode, decode, compare.
@Suite("Codec round trips")
struct CodecRoundTripTests {
    static let v5Props: MQTTProperties = [
        .payloadFormatIndicator(1), .messageExpiryInterval(60), .contentType("text/plain"),
        .responseTopic("reply/here"), .correlationData([1, 2, 3]), .userProperty(name: "k", value: "v"),
        .userProperty(name: "k", value: "v2"),
    ]

    static func samples(_ v: MQTTProtocolVersion) -> [MQTTPacket] {
        let v5 = v == .v5
        let props: MQTTProperties = v5 ? v5Props : []
        let will = MQTTWill(
            topic: "will/t", payload: [9, 9], qos: .atLeastOnce, retain: true,
            properties: v5 ? [.willDelayInterval(5)] : [])
        let ackProps: MQTTProperties = v5 ? [.reasonString("why")] : []
        return [
            .connect(ConnectPacket(version: v, clientID: "cid", cleanStart: true, keepAliveSeconds: 30)),
            .connect(
                ConnectPacket(
                    version: v, clientID: "", cleanStart: false, keepAliveSeconds: 0, username: "u",
                    password: [0, 1, 255], will: will,
                    properties: v5
                        ? [.sessionExpiryInterval(600), .receiveMaximum(10), .maximumPacketSize(1 << 20)] : [])),
            .connack(
                ConnAckPacket(
                    sessionPresent: true, reasonCode: .success,
                    properties: v5 ? [.receiveMaximum(20), .topicAliasMaximum(10), .assignedClientIdentifier("x")] : [])
            ),
            .connack(ConnAckPacket(sessionPresent: false, reasonCode: .notAuthorized)),
            .publish(PublishPacket(topic: "a/b", payload: ByteBuffer(bytes: [1, 2, 3]), qos: .atMostOnce)),
            .publish(
                PublishPacket(
                    topic: "a/b", payload: ByteBuffer(), qos: .atLeastOnce, retain: true, dup: true, packetID: 7,
                    properties: props)),
            .publish(
                PublishPacket(
                    topic: "ü/☃", payload: ByteBuffer(repeating: 0xAB, count: 20_000), qos: .exactlyOnce,
                    packetID: 65_535)),
            .puback(AckPacket(packetID: 1)),
            .puback(AckPacket(packetID: 2, reasonCode: v5 ? .noMatchingSubscribers : .success)),
            .pubrec(AckPacket(packetID: 3, reasonCode: v5 ? .quotaExceeded : .success, properties: ackProps)),
            .pubrel(AckPacket(packetID: 4)),
            .pubrel(AckPacket(packetID: 4, reasonCode: v5 ? .packetIdentifierNotFound : .success)),
            .pubcomp(AckPacket(packetID: 5, properties: ackProps)),
            .subscribe(
                SubscribePacket(
                    packetID: 6,
                    subscriptions: [
                        ("a/+/c", MQTTSubscriptionOptions(qos: .atLeastOnce)),
                        (
                            "#",
                            MQTTSubscriptionOptions(
                                qos: .exactlyOnce, noLocal: v5, retainAsPublished: v5,
                                retainHandling: v5 ? .doNotSend : .sendOnSubscribe)
                        ),
                        ("$share/g/x/#", MQTTSubscriptionOptions(qos: .atMostOnce)),
                    ],
                    properties: v5
                        ? [.subscriptionIdentifier(268_435_455), .userProperty(name: "a", value: "b")] : [])),
            .suback(
                SubAckPacket(
                    packetID: 6, reasonCodes: [.grantedQoS1, .grantedQoS2, .unspecifiedError], properties: ackProps)),
            .unsubscribe(
                UnsubscribePacket(
                    packetID: 8, filters: ["a/+/c", "#"], properties: v5 ? [.userProperty(name: "x", value: "")] : [])),
            .unsuback(
                SubAckPacket(
                    packetID: 8, reasonCodes: v5 ? [.success, .noSubscriptionExisted] : [], properties: ackProps)),
            .pingreq,
            .pingresp,
            .disconnect(ReasonPacket()),
        ]
            + (v5
                ? [
                    .disconnect(
                        ReasonPacket(
                            reasonCode: .serverShuttingDown,
                            properties: [.reasonString("bye"), .sessionExpiryInterval(0)])),
                    .disconnect(ReasonPacket(reasonCode: .disconnectWithWillMessage)),
                    .auth(
                        ReasonPacket(
                            reasonCode: .continueAuthentication,
                            properties: [.authenticationMethod("SCRAM"), .authenticationData([1, 2])])),
                    .auth(ReasonPacket()),
                ] : [])
    }

    @Test("every packet survives encode -> decode", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func roundTrip(version: MQTTProtocolVersion) throws {
        var encoder = MQTTPacketEncoder(version: version)
        let decoder = MQTTPacketDecoder(version: version)
        for packet in Self.samples(version) {
            var buffer = ByteBuffer()
            try encoder.encode(packet, into: &buffer)
            let total = buffer.readableBytes
            // Feed it one byte at a time: every strict prefix is incomplete, not an error.
            for cut in 0..<min(total, 64) {
                var prefix = buffer.getSlice(at: buffer.readerIndex, length: cut)!
                #expect(try decoder.decode(buffer: &prefix) == nil, "\(packet.name) prefix \(cut)")
            }
            let decoded = try #require(try decoder.decode(buffer: &buffer))
            #expect(decoded == packet, "\(packet.name) \(version)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test("many packets in one buffer decode in order", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func stream(version: MQTTProtocolVersion) throws {
        var encoder = MQTTPacketEncoder(version: version)
        let decoder = MQTTPacketDecoder(version: version)
        var buffer = ByteBuffer()
        let samples = Self.samples(version)
        for p in samples { try encoder.encode(p, into: &buffer) }
        var out: [MQTTPacket] = []
        while let p = try decoder.decode(buffer: &buffer) { out.append(p) }
        #expect(out == samples)
    }

    @Test("variable byte integer boundaries use the minimal length [MQTT-1.5.5-1]")
    func variableByteIntegers() throws {
        let cases: [(Int, [UInt8])] = [
            (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]), (16_384, [0x80, 0x80, 0x01]),
            (2_097_151, [0xFF, 0xFF, 0x7F]), (2_097_152, [0x80, 0x80, 0x80, 0x01]),
            (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
        ]
        for (value, bytes) in cases {
            var b = ByteBuffer()
            b.mqttWriteVariableByteInteger(value)
            #expect(Array(b.readableBytesView) == bytes)
            #expect(ByteBuffer.variableByteIntegerLength(value) == bytes.count)
            #expect(try b.mqttReadVariableByteInteger() == value)
        }
    }

    @Test("3.1.1 CONNACK return codes map to 5.0 reason codes and back")
    func v3ConnAckCodes() throws {
        let decoder = MQTTPacketDecoder(version: .v3_1_1)
        let expected: [MQTTReasonCode] = [
            .success, .unsupportedProtocolVersion, .clientIdentifierNotValid, .serverUnavailable,
            .badUserNameOrPassword, .notAuthorized,
        ]
        for (raw, code) in expected.enumerated() {
            var b = ByteBuffer(bytes: [0x20, 0x02, 0x00, UInt8(raw)])
            #expect(try decoder.decode(buffer: &b) == .connack(ConnAckPacket(sessionPresent: false, reasonCode: code)))
        }
    }

    @Test("oversized outbound packet is refused by the peer's maximum packet size")
    func outboundLimit() {
        var encoder = MQTTPacketEncoder(version: .v5, maximumPacketSize: 100)
        var out = ByteBuffer()
        let big = MQTTPacket.publish(
            PublishPacket(topic: "t", payload: ByteBuffer(repeating: 0, count: 200), qos: .atMostOnce))
        #expect(throws: MQTTError.self) { try encoder.encode(big, into: &out) }
        #expect(out.readableBytes == 0)
    }
}
