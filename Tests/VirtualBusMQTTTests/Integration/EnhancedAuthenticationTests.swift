import ConcurrencyPrimitives
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// MQTT 5 enhanced authentication (section 4.12) against a scripted broker: mosquitto needs a
/// plugin for it, so this is the one place a fake stands in for the real broker.
@Suite("Enhanced authentication (AUTH)", .timeLimit(.minutes(1)))
struct EnhancedAuthenticationTests {
    static let method = "TEST-CHALLENGE"

    /// The challenges the authenticator saw.
    typealias Seen = Locked<[MQTTAuthenticationChallenge]>

    static func auth(_ code: MQTTReasonCode, _ data: String, method: String = method) -> MQTTPacket {
        .auth(
            ReasonPacket(
                reasonCode: code, properties: [.authenticationMethod(method), .authenticationData(Array(data.utf8))]))
    }

    static func data(_ packet: MQTTPacket) -> String? {
        switch packet {
        case .connect(let c): c.properties.authenticationData.map { String(decoding: $0, as: UTF8.self) }
        case .auth(let a): a.properties.authenticationData.map { String(decoding: $0, as: UTF8.self) }
        default: nil
        }
    }

    /// Challenge "nonce-N" after the client's first data; CONNACK / AUTH success only for "proof:nonce-N".
    static func challengeBroker(badMethod: Bool = false) -> ScriptedBroker.Script {
        let round = Mutex(0)
        return { packet in
            let starts: Bool =
                switch packet {
                case .connect: true
                case .auth(let a): a.reasonCode == .reAuthenticate
                default: false
                }
            if starts {
                guard data(packet) == "hello" else {
                    return [.connack(ConnAckPacket(sessionPresent: false, reasonCode: .notAuthorized))]
                }
                let n = round.withLock {
                    $0 += 1; return $0
                }
                return [auth(.continueAuthentication, "nonce-\(n)", method: badMethod ? "OTHER" : method)]
            }
            switch packet {
            case .auth(let a) where a.reasonCode == .continueAuthentication:
                let n = round.withLock { $0 }
                guard data(packet) == "proof:nonce-\(n)" else {
                    return [.connack(ConnAckPacket(sessionPresent: false, reasonCode: .notAuthorized))]
                }
                if n == 1 {
                    return [
                        .connack(
                            ConnAckPacket(
                                sessionPresent: false, reasonCode: .success,
                                properties: [.authenticationMethod(method)]))
                    ]
                }
                return [.auth(ReasonPacket(reasonCode: .success, properties: [.authenticationMethod(method)]))]
            default:
                return []
            }
        }
    }

    func configuration(
        _ broker: ScriptedBroker, seen: Seen,
        respond: (@Sendable (MQTTAuthenticationChallenge) async throws -> [UInt8]?)? = nil
    ) -> MQTTClientConfiguration {
        var config = MQTTClientConfiguration(
            host: "127.0.0.1", port: broker.port, version: .v5, clientID: "auth", keepAlive: .zero)
        config.connectTimeout = .seconds(10)
        config.authentication = MQTTAuthentication(method: Self.method, initialData: Array("hello".utf8)) { challenge in
            // Never on an event loop: the authenticator may await anything.
            #expect(MultiThreadedEventLoopGroup.currentEventLoop == nil)
            seen.withLock { $0.append(challenge) }
            if let respond { return try await respond(challenge) }
            return Array("proof:\(String(decoding: challenge.data ?? [], as: UTF8.self))".utf8)
        }
        return config
    }

    @Test("CONNECT carries the method; the challenge is answered; re-authentication completes on AUTH success")
    func connectAndReauthenticate() async throws {
        let broker = try await ScriptedBroker.start(Self.challengeBroker())
        let seen = Seen([])
        try await MQTTClient.withConnection(configuration: configuration(broker, seen: seen)) { client in
            #expect(seen.withLock { $0.map(\.isReauthentication) } == [false])
            let code = try await withDeadline(.seconds(10), "re-authentication") { try await client.reauthenticate() }
            #expect(code == .success)
            #expect(
                seen.withLock { $0.map { String(decoding: $0.data ?? [], as: UTF8.self) } } == ["nonce-1", "nonce-2"])
            #expect(seen.withLock { $0.last?.isReauthentication } == true)
        }
        let packets = broker.received
        guard case .connect(let connect) = packets.first else { Issue.record("no CONNECT"); return }
        #expect(connect.properties.authenticationMethod == Self.method)
        #expect(packets.contains { if case .auth(let a) = $0 { a.reasonCode == .reAuthenticate } else { false } })
        await broker.stop()
    }

    @Test("an authenticator that throws ends the connection attempt with connectionRefused")
    func authenticatorFails() async throws {
        struct Refused: Error {}
        let broker = try await ScriptedBroker.start(Self.challengeBroker())
        let seen = Seen([])
        let client = MQTTClient(configuration: configuration(broker, seen: seen) { _ in throw Refused() })
        let error = await #expect(throws: MQTTError.self) {
            try await withDeadline(.seconds(10), "run() ending") { try await client.run() }
        }
        #expect(error?.code == .connectionRefused && error?.reasonCode == .notAuthorized)
        await broker.stop()
    }

    @Test("AUTH with another method is a protocol violation [MQTT-4.12.0-5]")
    func wrongMethod() async throws {
        let broker = try await ScriptedBroker.start(Self.challengeBroker(badMethod: true))
        let seen = Seen([])
        let client = MQTTClient(configuration: configuration(broker, seen: seen))
        let error = await #expect(throws: MQTTError.self) {
            try await withDeadline(.seconds(10), "run() ending") { try await client.run() }
        }
        #expect(error?.code == .protocolViolation)
        #expect(seen.withLock { $0.isEmpty }, "a challenge with the wrong method reached the authenticator")
        await broker.stop()
    }

    @Test("AUTH when CONNECT asked for no enhanced authentication is a protocol violation")
    func unexpectedAuth() async throws {
        let broker = try await ScriptedBroker.start { packet in
            if case .connect = packet { return [Self.auth(.continueAuthentication, "x")] }
            return []
        }
        let client = MQTTClient(
            configuration: MQTTClientConfiguration(
                host: "127.0.0.1", port: broker.port, version: .v5,
                clientID: "no-auth"))
        let error = await #expect(throws: MQTTError.self) {
            try await withDeadline(.seconds(10), "run() ending") { try await client.run() }
        }
        #expect(error?.code == .protocolViolation)
        await broker.stop()
    }
}
