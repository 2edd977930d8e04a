import BrokerLauncher
import Foundation
import Testing
import TestSupport
@testable import VirtualBusMQTT

@Suite("Security: TLS, passwords, will", .timeLimit(.minutes(1)))
struct SecurityTests {
    @Test("TLS: verified against the test CA; verification is on by default; mutual TLS with a client certificate")
    func tls() async throws {
        let secrets = try BrokerSecrets()
        defer { secrets.remove() }
        let ca = try await secrets.authority("ca")
        let client = try await secrets.clientIdentity(signedBy: ca)
        try await PrivateBroker.with(extraConfig: try await secrets.tlsListener(signedBy: ca)) { broker in
            var config = testConfiguration(broker, .v5, "tls")
            config.tls = MQTTTLSConfiguration(trustRoots: .pemFile(ca.certificate))
            try await MQTTClient.withConnection(configuration: config) { client in
                let sub = try await client.subscribe(to: ["tls/t"])
                try await client.publish(topic: "tls/t", payload: [42], qos: .exactlyOnce)
                var it = sub.makeAsyncIterator()
                #expect(try await it.next()?.payload == [42])
            }
            // System trust store: the self-signed CA is not trusted, so the handshake must fail, and
            // at the first connection that is final even with a reconnect policy.
            var untrusted = testConfiguration(broker, .v5, "tls-untrusted")
            untrusted.tls = MQTTTLSConfiguration()
            untrusted.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(20))
            let client = MQTTClient(configuration: untrusted)
            let error = await #expect(throws: MQTTError.self) {
                try await withDeadline(.seconds(10)) { try await client.run() }
            }
            #expect(error?.code == .tls, "\(String(describing: error))")
        }
        try await PrivateBroker.with(
            extraConfig: try await secrets.tlsListener(signedBy: ca, requireClientCertificate: true)
        ) { broker in
            var config = testConfiguration(broker, .v3_1_1, "mtls")
            config.tls = MQTTTLSConfiguration(
                trustRoots: .pemFile(ca.certificate), clientCertificatePath: client.certificate,
                clientKeyPath: client.key)
            try await MQTTClient.withConnection(configuration: config) { client in
                let result = try await client.publish(topic: "mtls/t", payload: [1], qos: .atLeastOnce)
                #expect(result.qos == .atLeastOnce)
            }
            var noCert = testConfiguration(broker, .v3_1_1, "mtls-none")
            noCert.tls = MQTTTLSConfiguration(trustRoots: .pemFile(ca.certificate))
            let client = MQTTClient(configuration: noCert)
            await #expect(throws: MQTTError.self) { try await withDeadline(.seconds(10)) { try await client.run() } }
        }
    }

    @Test(
        "user name and password: accepted when right, refused when wrong, never in error text", arguments: bothVersions)
    func passwords(version: MQTTProtocolVersion) async throws {
        let secrets = try BrokerSecrets()
        defer { secrets.remove() }
        try await PrivateBroker.with(
            extraConfig: try await secrets.passwordOnly(username: "alice", password: "correct-horse")
        ) { broker in
            var good = testConfiguration(broker, version, "pw")
            good.credentials = MQTTCredentials(username: "alice", password: "correct-horse")
            try await MQTTClient.withConnection(configuration: good) { client in
                _ = try await client.publish(topic: "pw/t", payload: [1], qos: .atLeastOnce)
            }
            var bad = good
            bad.credentials = MQTTCredentials(username: "alice", password: "wrong-battery-staple")
            // A refusal is final even with a reconnect policy (reconnecting it was a crash).
            bad.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(20))
            let client = MQTTClient(configuration: bad)
            let error = await #expect(throws: MQTTError.self) {
                try await withDeadline(.seconds(10)) { try await client.run() }
            }
            #expect(error?.code == .connectionRefused)
            #expect([MQTTReasonCode.badUserNameOrPassword, .notAuthorized].contains(error?.reasonCode))
            #expect(["bad user name or password", "not authorized"].contains { error?.message.hasSuffix($0) == true })
            #expect(!"\(String(describing: error))".contains("wrong-battery") && !"\(bad)".contains("wrong-battery"))
        }
    }

    @Test("the will message is published when the connection dies", arguments: bothVersions)
    func will(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            let proxy = try await TCPProxy.start(to: broker.port)
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "will-watcher")) {
                watcher in
                let wills = try await watcher.subscribe(to: ["will/#"])
                var config = testConfiguration(broker, version, "will")
                config.port = proxy.port
                config.will = MQTTWill(topic: "will/gone", payload: Array("bye".utf8), qos: .atLeastOnce)
                let client = MQTTClient(configuration: config)
                let task = try await startClient(client)
                proxy.cut()  // no DISCONNECT: the broker must publish the will
                var it = wills.makeAsyncIterator()
                let message = try await it.next()
                #expect(message?.topic.name == "will/gone" && message?.payload == Array("bye".utf8))
                await #expect(throws: MQTTError.self) { try await task.value }
            }
            await proxy.stop()
        }
    }
}
