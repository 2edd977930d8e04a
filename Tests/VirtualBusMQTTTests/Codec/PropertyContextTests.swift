import NIOCore
import Testing
@testable import VirtualBusMQTT

/// MQTT 5 properties are valid only in the packets the property table lists ([MQTT-2.2.2.2]);
/// most may appear at most once ([MQTT-2.2.2-2]).
@Suite("Properties per packet type")
struct PropertyContextTests {
    typealias C = MQTTPropertyContext

    /// The property table of MQTT 5.0 section 2.2.2.2, written per property (the implementation
    /// keeps it per packet, so the two spellings check each other).
    static let table: [(MQTTProperty, Set<C>)] = [
        (.payloadFormatIndicator(1), [.publish, .will]),
        (.messageExpiryInterval(60), [.publish, .will]),
        (.contentType("text/plain"), [.publish, .will]),
        (.responseTopic("r/t"), [.publish, .will]),
        (.correlationData([1, 2]), [.publish, .will]),
        (.subscriptionIdentifier(7), [.publish, .subscribe]),
        (.sessionExpiryInterval(30), [.connect, .connack, .disconnect]),
        (.assignedClientIdentifier("id"), [.connack]),
        (.serverKeepAlive(10), [.connack]),
        (.authenticationMethod("SCRAM"), [.connect, .connack, .auth]),
        (.authenticationData([9]), [.connect, .connack, .auth]),
        (.requestProblemInformation(1), [.connect]),
        (.willDelayInterval(5), [.will]),
        (.requestResponseInformation(1), [.connect]),
        (.responseInformation("info"), [.connack]),
        (.serverReference("other"), [.connack, .disconnect]),
        (.reasonString("why"), [.connack, .acknowledgement, .suback, .unsuback, .disconnect, .auth]),
        (.receiveMaximum(10), [.connect, .connack]),
        (.topicAliasMaximum(10), [.connect, .connack]),
        (.topicAlias(1), [.publish]),
        (.maximumQoS(1), [.connack]),
        (.retainAvailable(1), [.connack]),
        (.userProperty(name: "k", value: "v"), Set(C.allCases)),
        (.maximumPacketSize(1_000), [.connect, .connack]),
        (.wildcardSubscriptionAvailable(1), [.connack]),
        (.subscriptionIdentifierAvailable(1), [.connack]),
        (.sharedSubscriptionAvailable(1), [.connack]),
    ]

    func decode(_ properties: [MQTTProperty], in context: C) throws(MQTTError) -> MQTTProperties {
        var buffer = ByteBuffer()
        try MQTTProperties(properties).encode(into: &buffer)
        return try MQTTProperties.decode(from: &buffer, in: context)
    }

    @Test(
        "each property decodes in the packets that allow it and is a malformed packet elsewhere",
        arguments: C.allCases)
    func allowed(_ context: C) throws {
        for (property, contexts) in Self.table {
            if contexts.contains(context) {
                #expect(
                    try decode([property], in: context) == MQTTProperties([property]), "\(property) in \(context.name)")
            } else {
                let error = #expect(throws: MQTTError.self, "\(property) in \(context.name)") {
                    try decode([property], in: context)
                }
                #expect(error?.reasonCode == .malformedPacket && error?.code == .protocolViolation)
                #expect(error?.message.contains(context.name) == true, "the error names the packet")
            }
        }
    }

    @Test(
        """
        a property twice is a protocol error, except user properties and a PUBLISH's subscription identifiers \
        [MQTT-2.2.2-2]
        """,
        arguments: C.allCases)
    func repeated(_ context: C) throws {
        for (property, contexts) in Self.table where contexts.contains(context) {
            let mayRepeat =
                property.identifier == .userProperty
                || (property.identifier == .subscriptionIdentifier && context == .publish)
            if mayRepeat {
                #expect(try decode([property, property], in: context).count == 2)
            } else {
                let error = #expect(throws: MQTTError.self, "\(property) twice in \(context.name)") {
                    try decode([property, property], in: context)
                }
                #expect(error?.reasonCode == .protocolError)
            }
        }
    }

    @Test(
        """
        whole packets: PUBACK with a topic alias is malformed; SUBSCRIBE with two subscription identifiers is a \
        protocol error
        """
    )
    func packets() {
        let decoder = MQTTPacketDecoder(version: .v5)
        // PUBACK id 1, reason 0, properties: topic alias 1.
        var puback = ByteBuffer(bytes: [0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01])
        let e1 = #expect(throws: MQTTError.self) { try decoder.decode(buffer: &puback) }
        #expect(e1?.reasonCode == .malformedPacket)
        // SUBSCRIBE id 1, properties: subscription identifier 1 twice, filter "a" QoS 0.
        var subscribe = ByteBuffer(bytes: [
            0x82, 0x0A, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x01, 0x00, 0x01, 0x61, 0x00,
        ])
        let e2 = #expect(throws: MQTTError.self) { try decoder.decode(buffer: &subscribe) }
        #expect(e2?.reasonCode == .protocolError)
    }

    @Test("properties the application passes are checked before sending [MQTT-3.3.4-6]")
    func outbound() throws {
        let client = MQTTClient(configuration: MQTTClientConfiguration(host: "127.0.0.1", port: 1, clientID: "props"))
        for bad: MQTTProperty in [
            .sessionExpiryInterval(1), .subscriptionIdentifier(1), .topicAlias(1), .reasonString("x"),
        ] {
            let error = #expect(throws: MQTTError.self, "\(bad)") {
                try client.tryPublish(topic: "t", payload: [], properties: [bad])
            }
            #expect(error?.code == .invalidProperty)
        }
        let twice = #expect(throws: MQTTError.self) {
            try client.tryPublish(topic: "t", payload: [], properties: [.contentType("a"), .contentType("b")])
        }
        #expect(twice?.code == .invalidProperty)
        // Allowed ones are accepted (queued: the client is not running).
        _ = try client.tryPublish(
            topic: "t", payload: [],
            properties: [
                .contentType("a"), .userProperty(name: "k", value: "v"),
                .userProperty(name: "k", value: "w"),
            ])
        client.shutdown()
    }
}
