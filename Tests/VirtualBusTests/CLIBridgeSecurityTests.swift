import BrokerLauncher
import Testing
import TestSupport

/// `vbus bridge` as a separate process against a mosquitto that wants TLS, a user name and password,
/// or both, each test with a broker of its own: the flags and the YAML file work end to end with
/// foreign peers (pyzmq, mosquitto_sub / mosquitto_pub), and an untrusted certificate or a wrong
/// password ends the bridge at once with the reason, never with the password in its output.
@Suite("vbus bridge over TLS and with a user name and password", .timeLimit(.minutes(2)))
struct CLIBridgeSecurityTests {
    static let username = "gateway"
    static let password = "pw-Zq8-never-printed"
    /// A refused start ends well within this: before, a wrong CA was retried until the bridge's 10 s
    /// connect timeout, and a wrong password crashed the reconnecting client.
    static let refusalBound: Duration = .seconds(5)
    /// Bus -> MQTT `sensors/#` under `site/`, on bus endpoints the pyzmq peers can reach.
    static let outRule = [
        "--out", "sensors/#=site/", "--qos", "1", "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
    ]

    @Test("TLS with --tls-ca: a bus message reaches a mosquitto_sub over TLS; SIGTERM exits 0")
    func tls() async throws {
        try await Self.withBroker(tls: true) { port, _, ca in
            let bridge = try ChildProcess.vbus(
                ["bridge", "--broker", "mqtts://127.0.0.1:\(port)", "--tls-ca", ca.certificate] + Self.outRule)
            try await Self.expectRelayedOut(bridge, mosquittoSub: ["-p", "\(port)", "--cafile", ca.certificate])
            try await Self.expectCleanStop(bridge)
        }
    }

    @Test("TLS with an unrelated CA: exits non-zero at once with an error naming the certificate failure")
    func untrustedBroker() async throws {
        try await Self.withBroker(tls: true) { port, secrets, _ in
            let unrelated = try await secrets.authority("unrelated-ca")
            let bridge = try ChildProcess.vbus(
                ["bridge", "--broker", "mqtts://127.0.0.1:\(port)", "--tls-ca", unrelated.certificate] + Self.outRule)
            let error = try await Self.expectRefusedStart(bridge)
            #expect(error.contains("TLS") && error.contains("CERTIFICATE_VERIFY_FAILED"), "got: \(error)")
        }
    }

    @Test(
        """
        --username and --password-file: a mosquitto_pub command reaches a pyzmq SUB; SIGTERM exits 0; the \
        password is never printed
        """
    )
    func password() async throws {
        try await Self.withBroker(password: true) { port, secrets, _ in
            let bridge = try ChildProcess.vbus([
                "bridge", "--broker", "mqtt://127.0.0.1:\(port)", "--username", Self.username,
                "--password-file", try secrets.write("bridge-password", Self.password + "\n"),
                "--in", "cmd/#", "--qos", "1", "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
            ])
            let (_, backend) = try await bridge.bridgeEndpoints()
            // Retained, so the command waits at the broker for the bridge's subscription, whenever it
            // comes, and the bridge's cache replays it to a bus subscriber that connects late.
            let busSubscriber = try ChildProcess.busSubscriber(backend, prefix: "cmd/")
            let mqttPublisher = try ChildProcess(
                "/usr/bin/mosquitto_pub",
                [
                    "-h", "127.0.0.1", "-p", "\(port)", "-u", Self.username, "-P", Self.password,
                    "-t", "cmd/fan", "-m", "on", "-r", "-q", "1",
                ])
            #expect(try await mqttPublisher.exit().status == 0)
            #expect(try await busSubscriber.nextLine { _ in true } == "b'cmd/fan' b'on'")
            try await Self.expectCleanStop(bridge)
        }
    }

    @Test("a wrong password: exits non-zero at once with 'not authorized', and the password is never printed")
    func wrongPassword() async throws {
        try await Self.withBroker(password: true) { port, secrets, _ in
            let wrong = "pw-Wr0ng-never-printed"
            let bridge = try ChildProcess.vbus(
                [
                    "bridge", "--broker", "mqtt://127.0.0.1:\(port)", "--username", Self.username,
                    "--password-file", try secrets.write("bridge-password", wrong + "\n"),
                ] + Self.outRule)
            let error = try await Self.expectRefusedStart(bridge, secret: wrong)
            // mosquitto answers a wrong password with "not authorized" (0x87 / 3.1.1 code 5).
            #expect(error.contains("refused") && error.contains("not authorized"), "got: \(error)")
        }
    }

    @Test("TLS and a password from a YAML --config file: a bus message reaches a mosquitto_sub; SIGTERM exits 0")
    func configurationFile() async throws {
        try await Self.withBroker(tls: true, password: true) { port, secrets, ca in
            let configuration = try secrets.write(
                "bridge.yaml",
                """
                broker: mqtts://127.0.0.1:\(port)
                username: \(Self.username)
                passwordFile: \(try secrets.write("bridge-password", Self.password + "\n"))
                tlsCA: \(ca.certificate)
                frontend: ["tcp://127.0.0.1:*"]
                backend: ["tcp://127.0.0.1:*"]
                rules:
                  - direction: out
                    filter: sensors/#
                    remotePrefix: site/
                """)
            let bridge = try ChildProcess.vbus(["bridge", "--config", configuration])
            try await Self.expectRelayedOut(
                bridge,
                mosquittoSub: [
                    "-p", "\(port)", "--cafile", ca.certificate, "-u", Self.username, "-P", Self.password,
                ])
            try await Self.expectCleanStop(bridge)
        }
    }

    /// Runs `body` with a mosquitto of its own on a free loopback port, whose listener is TLS with a
    /// certificate that `ca` signs (`tls`) and admits only ``username`` with ``password`` (`password`).
    /// The broker is stopped and its secrets are removed afterwards.
    private static func withBroker(
        tls: Bool = false, password: Bool = false,
        _ body: (_ port: Int, _ secrets: BrokerSecrets, _ ca: BrokerSecrets.Authority) async throws -> Void
    ) async throws {
        let secrets = try BrokerSecrets()
        defer { secrets.remove() }
        let ca = try await secrets.authority("ca")
        var configuration: [String] = []
        if tls { configuration.append(try await secrets.tlsListener(signedBy: ca)) }
        if password {
            configuration.append(try await secrets.passwordOnly(username: username, password: Self.password))
        }
        let broker = try await PrivateBroker.started(extraConfiguration: configuration.joined(separator: "\n"))
        defer { broker.stop() }
        try await body(broker.port, secrets, ca)
    }

    /// A message a pyzmq PUB publishes on the bridge's frontend reaches a mosquitto_sub that uses
    /// `access` (port, TLS, credentials) to reach the broker.
    private static func expectRelayedOut(_ bridge: ChildProcess, mosquittoSub access: [String]) async throws {
        let (frontend, _) = try await bridge.bridgeEndpoints()
        let mqttSubscriber = try ChildProcess(
            "/usr/bin/mosquitto_sub", ["-h", "127.0.0.1"] + access + ["-t", "site/#", "-C", "1", "-v", "-q", "1"])
        let busPublisher = try ChildProcess.busPublisher(frontend, topic: "sensors/t", payload: "21.5")
        #expect(try await mqttSubscriber.nextLine { $0.hasPrefix("site/") } == "site/sensors/t 21.5")
        busPublisher.terminate()
    }

    /// SIGTERM ends the bridge with status 0, and it never printed the password.
    private static func expectCleanStop(_ bridge: ChildProcess) async throws {
        bridge.terminate()
        #expect(try await bridge.exit(within: .seconds(10)).status == 0)
        #expect(!(try await bridge.transcript()).contains(password))
    }

    /// The bridge ends by itself within ``refusalBound`` with a non-zero status, without printing
    /// `secret`; returns its `Error:` line.
    private static func expectRefusedStart(_ bridge: ChildProcess, secret: String = password) async throws -> String {
        #expect(try await bridge.exit(within: refusalBound).status != 0)
        let transcript = try await bridge.transcript()
        #expect(!transcript.contains(secret))
        return String(
            try #require(transcript.split(separator: "\n").last { $0.hasPrefix("Error:") }, "output: \(transcript)"))
    }
}
