import Synchronization
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// How a reconnecting client treats a refused CONNACK: "not now" is retried with the session kept,
/// anything else ends the client with the reason. A scripted broker, because mosquitto says
/// "server unavailable" only in states a test cannot put it in reliably.
@Suite("Refused connections", .timeLimit(.minutes(1)))
struct RefusalTests {
    /// Refuses the first `refusals` CONNECTs with `code`, then accepts; PINGREQ is answered.
    static func refusingBroker(_ code: MQTTReasonCode, refusals: Int) -> ScriptedBroker.Script {
        let connects = Atomic<Int>(0)
        return { packet in
            switch packet {
            case .connect:
                let attempt = connects.add(1, ordering: .relaxed).newValue
                return [
                    .connack(ConnAckPacket(sessionPresent: false, reasonCode: attempt <= refusals ? code : .success))
                ]
            case .pingreq: return [.pingresp]
            default: return []
            }
        }
    }

    func configuration(_ broker: ScriptedBroker) -> MQTTClientConfiguration {
        var config = MQTTClientConfiguration(
            host: "127.0.0.1", port: broker.port, version: .v5, clientID: "refusal", keepAlive: .zero)
        config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
        return config
    }

    @Test(
        "server unavailable / busy / connection rate exceeded: retried until the broker accepts",
        arguments: [MQTTReasonCode.serverUnavailable, .serverBusy, .connectionRateExceeded])
    func transientIsRetried(code: MQTTReasonCode) async throws {
        let broker = try await ScriptedBroker.start(Self.refusingBroker(code, refusals: 2))
        let client = MQTTClient(configuration: configuration(broker))
        let task = try await startClient(client)
        // Two refused, then the accepted one that only resets the session (Clean Start 1), then the
        // session the client keeps (Clean Start 0: a reconnect resumes it).
        let connects = broker.received.compactMap { if case .connect(let packet) = $0 { packet } else { nil } }
        #expect(connects.map(\.cleanStart) == [true, true, true, false])
        client.shutdown()
        try await task.value
        await broker.stop()
    }

    @Test("not authorized: final even with a reconnect policy, the reason in words")
    func finalRefusal() async throws {
        let broker = try await ScriptedBroker.start(Self.refusingBroker(.notAuthorized, refusals: 1))
        let client = MQTTClient(configuration: configuration(broker))
        let error = await #expect(throws: MQTTError.self) {
            try await withDeadline(.seconds(10)) { try await client.run() }
        }
        #expect(error?.code == .connectionRefused && error?.reasonCode == .notAuthorized)
        #expect(error?.message.contains("not authorized") == true, "\(String(describing: error))")
        await broker.stop()
    }
}
