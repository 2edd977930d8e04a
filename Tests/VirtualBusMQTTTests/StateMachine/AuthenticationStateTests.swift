import NIOCore
import Testing
@testable import VirtualBusMQTT

/// Enhanced authentication in the state machine (MQTT 5.0 section 4.12), no I/O.
@Suite("Enhanced authentication (state machine, no I/O)")
struct AuthenticationStateTests {
    let t0 = ContinuousClock.now
    static let method = "M"

    func machine(method: String? = method) -> SM {
        var config = SM.Configuration()
        config.clientID = "c"
        config.authenticationMethod = method
        config.authenticationData = [1]
        return SM(configuration: config)
    }

    func auth(_ code: MQTTReasonCode, method: String = method) -> MQTTPacket {
        .auth(ReasonPacket(reasonCode: code, properties: [.authenticationMethod(method), .authenticationData([2])]))
    }

    var connack: MQTTPacket {
        .connack(
            ConnAckPacket(sessionPresent: false, reasonCode: .success, properties: [.authenticationMethod(Self.method)])
        )
    }

    @Test("CONNECT carries method and data; a challenge while connecting goes to the application, its answer out")
    func connectExchange() {
        var sm = machine()
        guard case .connect(let connect) = sm.connect(now: t0).first?.sent else { Issue.record("no CONNECT"); return }
        #expect(connect.properties.authenticationMethod == Self.method && connect.properties.authenticationData == [1])
        guard case .authenticate(let challenge) = sm.received(auth(.continueAuthentication), now: t0).first else {
            Issue.record("challenge not handed over"); return
        }
        #expect(challenge.data == [2] && !challenge.isReauthentication)
        #expect(
            sm.answerAuthentication([3], isReauthentication: false).first?.sent
                == .auth(
                    ReasonPacket(
                        reasonCode: .continueAuthentication,
                        properties: [.authenticationMethod(Self.method), .authenticationData([3])])))
        _ = sm.received(connack, now: t0)
        #expect(sm.state.isConnected)
        #expect(sm.answerAuthentication([4], isReauthentication: false).isEmpty, "a late answer was sent after CONNACK")
    }

    @Test("CONNACK without the CONNECT's method is a protocol violation [MQTT-4.12.0-5]")
    func connackMethod() {
        var sm = machine()
        _ = sm.connect(now: t0)
        let actions = sm.received(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .success)), now: t0)
        #expect(actions.last?.closeError??.code == .protocolViolation)
    }

    @Test("re-authentication: AUTH re-authenticate out, challenge answered, AUTH success completes; one at a time")
    func reauthentication() {
        var sm = machine()
        _ = sm.connect(now: t0)
        _ = sm.received(connack, now: t0)
        #expect(
            sm.reauthenticate(completion: 1).first?.sent
                == .auth(
                    ReasonPacket(
                        reasonCode: .reAuthenticate,
                        properties: [.authenticationMethod(Self.method), .authenticationData([1])])))
        guard case .reauthenticated(2, .failure) = sm.reauthenticate(completion: 2).first else {
            Issue.record("a second re-authentication was accepted"); return
        }
        guard case .authenticate(let challenge) = sm.received(auth(.continueAuthentication), now: t0).first else {
            Issue.record("challenge not handed over"); return
        }
        #expect(challenge.isReauthentication)
        guard case .reauthenticated(1, .success(.success)) = sm.received(auth(.success), now: t0).first else {
            Issue.record("not completed"); return
        }
        #expect(
            sm.received(auth(.success), now: t0).last?.closeError??.code == .protocolViolation,
            "AUTH success without a re-authentication")
    }

    @Test("a re-authentication in progress fails when the connection ends")
    func reauthenticationLost() {
        var sm = machine()
        _ = sm.connect(now: t0)
        _ = sm.received(connack, now: t0)
        _ = sm.reauthenticate(completion: 7)
        guard case .reauthenticated(7, .failure(let error)) = sm.connectionClosed(error: nil).first else {
            Issue.record("waiter left behind"); return
        }
        #expect(error.code == .sessionLost)
    }

    @Test("without a method: AUTH is a protocol violation, reauthenticate() is unsupported")
    func noMethod() {
        var sm = machine(method: nil)
        _ = sm.connect(now: t0)
        #expect(sm.received(auth(.continueAuthentication), now: t0).last?.closeError??.code == .protocolViolation)
        var other = machine(method: nil)
        _ = other.connect(now: t0)
        _ = other.received(.connack(ConnAckPacket(sessionPresent: false, reasonCode: .success)), now: t0)
        guard case .reauthenticated(1, .failure(let error)) = other.reauthenticate(completion: 1).first else {
            Issue.record("accepted"); return
        }
        #expect(error.code == .unsupported)
    }
}
