import NIOCore
import Testing
@testable import VirtualBusMQTT

/// Malformed input is a protocol violation naming the rule, never a crash and never "incomplete".
@Suite("Malformed input")
struct MalformedInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var rule: String
        var version: MQTTProtocolVersion
        var bytes: [UInt8]
        var testDescription: String { rule }
    }

    static let cases: [Case] = [
        Case(rule: "[MQTT-2.1.2] reserved packet type 0", version: .v5, bytes: [0x00, 0x00]),
        Case(rule: "[MQTT-2.1.2] AUTH does not exist in 3.1.1", version: .v3_1_1, bytes: [0xF0, 0x00]),
        Case(
            rule: "[MQTT-1.5.5] remaining length over 4 bytes", version: .v5,
            bytes: [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        Case(rule: "[MQTT-1.5.5-1] non-minimal remaining length", version: .v5, bytes: [0xC0, 0x80, 0x00]),
        Case(rule: "[MQTT-2.2.2-1] PUBACK with flags", version: .v5, bytes: [0x41, 0x02, 0x00, 0x01]),
        Case(rule: "[MQTT-2.2.2-2] PUBREL without flag 0010", version: .v5, bytes: [0x60, 0x02, 0x00, 0x01]),
        Case(
            rule: "[MQTT-2.2.2-2] SUBSCRIBE without flag 0010", version: .v3_1_1,
            bytes: [0x80, 0x06, 0, 1, 0, 1, 0x61, 0]),
        Case(
            rule: "[MQTT-3.3.1-4] PUBLISH with QoS 3", version: .v5,
            bytes: [0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]),
        Case(rule: "[MQTT-3.3.1-2] DUP on QoS 0", version: .v3_1_1, bytes: [0x38, 0x03, 0x00, 0x01, 0x61]),
        Case(rule: "[MQTT-3.3.2-2] wildcard in topic name", version: .v3_1_1, bytes: [0x30, 0x03, 0x00, 0x01, 0x23]),
        Case(
            rule: "[MQTT-2.2.1-3] packet identifier 0", version: .v3_1_1,
            bytes: [0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00]),
        Case(rule: "[MQTT-2.2.1-3] PUBACK id 0", version: .v3_1_1, bytes: [0x40, 0x02, 0x00, 0x00]),
        Case(rule: "[MQTT-1.5.4-2] U+0000 in a string", version: .v3_1_1, bytes: [0x30, 0x04, 0x00, 0x02, 0x61, 0x00]),
        Case(
            rule: "[MQTT-1.5.4-1] invalid UTF-8 (lone continuation byte)", version: .v3_1_1,
            bytes: [0x30, 0x03, 0x00, 0x01, 0x80]),
        Case(
            rule: "[MQTT-1.5.4-1] invalid UTF-8 (encoded surrogate)", version: .v3_1_1,
            bytes: [0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80]),
        Case(
            rule: "[MQTT-1.5.4-1] invalid UTF-8 (overlong)", version: .v5,
            bytes: [0x30, 0x05, 0x00, 0x02, 0xC0, 0xAF, 0x00]),
        Case(rule: "[MQTT-1.5.4] string longer than the packet", version: .v5, bytes: [0x30, 0x03, 0x00, 0x05, 0x61]),
        Case(
            rule: "[MQTT-2.2.2] unknown property identifier", version: .v5,
            bytes: [0x30, 0x06, 0x00, 0x01, 0x61, 0x02, 0x7F, 0x00]),
        Case(
            rule: "[MQTT-2.2.2-2] property included twice", version: .v5,
            bytes: [0x30, 0x08, 0x00, 0x01, 0x61, 0x04, 0x01, 0x00, 0x01, 0x01]),
        Case(
            rule: "[MQTT-2.2.2] property length longer than the packet", version: .v5,
            bytes: [0x30, 0x05, 0x00, 0x01, 0x61, 0x09, 0x01]),
        Case(
            rule: "[MQTT-3.2.2.3.3] receive maximum 0", version: .v5,
            bytes: [0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00]),
        Case(rule: "[MQTT-3.2.2-1] CONNACK reserved flags", version: .v3_1_1, bytes: [0x20, 0x02, 0x02, 0x00]),
        Case(
            rule: "[MQTT-3.2.2.3] reserved 3.1.1 CONNACK return code", version: .v3_1_1,
            bytes: [0x20, 0x02, 0x00, 0x06]),
        Case(rule: "[MQTT-3.2.2-6] session present with failure", version: .v5, bytes: [0x20, 0x03, 0x01, 0x87, 0x00]),
        Case(rule: "[MQTT-3.9.3] SUBACK without reason codes", version: .v3_1_1, bytes: [0x90, 0x02, 0x00, 0x01]),
        Case(
            rule: "[MQTT-3.11.3] 3.1.1 UNSUBACK with payload", version: .v3_1_1, bytes: [0xB0, 0x03, 0x00, 0x01, 0x00]),
        Case(rule: "[MQTT-3.12] PINGRESP with a body", version: .v3_1_1, bytes: [0xD0, 0x01, 0x00]),
        Case(rule: "[MQTT-3.4] PUBACK too short", version: .v5, bytes: [0x40, 0x01, 0x00]),
        Case(rule: "[MQTT-3.8.3-3] SUBSCRIBE without filters", version: .v3_1_1, bytes: [0x82, 0x02, 0x00, 0x01]),
        Case(
            rule: "[MQTT-4.7.1-1] SUBSCRIBE '#' not last", version: .v3_1_1,
            bytes: [0x82, 0x08, 0, 1, 0, 3, 0x23, 0x2F, 0x61, 1]),
        Case(
            rule: "[MQTT-3.1.2-1] CONNECT protocol name", version: .v3_1_1,
            bytes: [0x10, 0x0C, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, 0].enumerated().map {
                $0.offset == 5 ? 0x58 : $0.element
            }),
        Case(
            rule: "[MQTT-3.1.2-3] CONNECT reserved flag", version: .v3_1_1,
            bytes: [0x10, 0x0C, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0x03, 0, 60, 0, 0]),
        Case(
            rule: "[MQTT-3.1.2-22] 3.1.1 password without user name", version: .v3_1_1,
            bytes: [0x10, 0x0E, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0x42, 0, 60, 0, 0, 0, 0]),
    ]

    @Test("malformed packets throw a protocol violation", arguments: cases)
    func malformed(_ c: Case) {
        let decoder = MQTTPacketDecoder(version: c.version)
        var buffer = ByteBuffer(bytes: c.bytes)
        let error = #expect(throws: MQTTError.self, "\(c.rule)") { _ = try decoder.decode(buffer: &buffer) }
        #expect(error?.code == .protocolViolation, "\(c.rule)")
    }

    @Test("a packet over the maximum packet size is refused before its body arrives")
    func inboundLimit() {
        let decoder = MQTTPacketDecoder(version: .v5, maximumPacketSize: 1_000)
        var buffer = ByteBuffer(bytes: [0x30, 0xFF, 0x7F])  // announces 16 KiB, body not sent
        #expect(
            throws: MQTTError(
                .packetTooLarge, "packet of 16386 bytes exceeds the maximum packet size 1000",
                reasonCode: .packetTooLarge)
        ) { try decoder.decode(buffer: &buffer) }
    }
}
