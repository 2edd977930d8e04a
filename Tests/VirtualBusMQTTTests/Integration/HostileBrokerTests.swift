import Testing
import TestSupport
@testable import VirtualBusMQTT

/// A broken or hostile broker gets a clean disconnect with a clear error; the client never
/// crashes or hangs.
@Suite("Hostile broker", .timeLimit(.minutes(1)))
struct HostileBrokerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var reply: [UInt8]?
        var expected: MQTTError.Code
        var testDescription: String { name }
    }

    static let connAck: [UInt8] = [0x20, 0x03, 0x00, 0x00, 0x00]  // v5 CONNACK, no properties
    static let cases: [Case] = [
        Case(
            name: "garbage after CONNACK", reply: connAck + [0x00, 0xDE, 0xAD, 0xBE, 0xEF], expected: .protocolViolation
        ),
        Case(
            name: "remaining length over the maximum packet size", reply: connAck + [0x30, 0xFF, 0xFF, 0xFF, 0x7F],
            expected: .packetTooLarge),
        Case(
            name: "malformed remaining length (5 bytes)", reply: connAck + [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            expected: .protocolViolation),
        Case(
            name: "PUBACK before CONNACK (wrong state)", reply: [0x40, 0x02, 0x00, 0x01], expected: .protocolViolation),
        Case(
            name: "PUBACK for an unknown packet identifier", reply: connAck + [0x40, 0x02, 0x00, 0x4D],
            expected: .protocolViolation),
        Case(
            name: "SUBSCRIBE sent by the server", reply: connAck + [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00],
            expected: .protocolViolation),
        Case(name: "no CONNACK at all (connect timeout)", reply: nil, expected: .connectionFailed),
        Case(
            name: "CONNACK then silence (dead broker: keep-alive timeout)", reply: connAck,
            expected: .keepAliveTimeout),
    ]

    @Test("clean disconnect with a clear error", arguments: cases)
    func hostile(_ c: Case) async throws {
        let broker = try await ScriptedBroker.start(reply: c.reply)
        var config = MQTTClientConfiguration(
            host: "127.0.0.1", port: broker.port, version: .v5, clientID: "hostile",
            keepAlive: .seconds(1))
        config.pingTimeout = .milliseconds(300)
        // Short only where the timeout is the point; elsewhere a loaded CI machine (parallel suites
        // starting brokers) must not turn a scripted reply into a connect timeout.
        config.connectTimeout = c.reply == nil ? .milliseconds(500) : .seconds(10)
        let client = MQTTClient(configuration: config)
        let ticket = try client.tryPublish(topic: "h/t", payload: [1], qos: .atLeastOnce)
        let error = await #expect(throws: MQTTError.self) {
            try await withDeadline(.seconds(10), "run() ending") { try await client.run() }
        }
        #expect(error?.code == c.expected, "\(c.name): \(String(describing: error))")
        #expect(error.map { !$0.message.isEmpty } == true)
        // The queued or in-flight publish is not forgotten: it fails.
        await #expect(throws: MQTTError.self) { try await ticket.result() }
        if c.expected == .protocolViolation || c.expected == .packetTooLarge, c.reply?.first == 0x20 {
            // [MQTT-4.13.1-1]: the client told the broker why, with a DISCONNECT reason code.
            // The fake broker may read it just after the client closed: wait for it to arrive.
            func reason() -> MQTTReasonCode? {
                broker.receivedPackets(.v5).compactMap { if case .disconnect(let d) = $0 { d.reasonCode } else { nil } }
                    .first
            }
            try await waitUntil("\(c.name): DISCONNECT with a reason code", within: .seconds(5)) { reason() != nil }
            #expect(reason()?.isFailure == true)
        }
        await broker.stop()
    }
}
