import ArgumentParser
import BrokerLauncher
import Foundation
import Logging
import ServiceLifecycle
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// `vbus bridge`: a bus bridged to an MQTT broker by rules.
struct BridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "Relay bus topics to and from an MQTT broker until SIGINT/SIGTERM, then shut down in order.",
        discussion: """
            Rules: --out FILTER[=REMOTE_PREFIX] (bus -> MQTT), --in FILTER[=LOCAL_PREFIX] (MQTT -> bus), \
            --both FILTER. Without --broker a private mosquitto is started on a free loopback port and \
            stopped on exit. With --frontend/--backend the bus binds those endpoints so other processes \
            (any ZeroMQ peer) publish and subscribe through it.
            """
    )

    @Option(name: .long, help: "YAML file with the broker and the rules (flags add rules and override settings).")
    var config: String?
    @Option(
        name: .long,
        help:
            """
            The broker, mqtt://HOST:PORT or mqtts://HOST:PORT (default: a private mosquitto); several, \
            comma-separated, are the nodes of a cluster, tried in order.
            """
    ) var broker: String?
    @Option(name: .customLong("mqtt-version"), help: "3.1.1, 5, or auto (5 if the broker speaks it, else 3.1.1).")
    var mqttVersion: String?
    @Option(name: .long, help: "MQTT user name.") var username: String?
    @Option(name: .customLong("password-file"), help: "File holding the MQTT password.") var passwordFile: String?
    @Option(
        name: .customLong("tls-ca"), help: "PEM file of the CA that signed the broker's certificate (turns TLS on).")
    var tlsCA: String?
    @Option(name: .long, help: "Bus -> MQTT rule FILTER[=REMOTE_PREFIX]; repeatable.") var out: [String] = []
    @Option(name: .customLong("in"), help: "MQTT -> bus rule FILTER[=LOCAL_PREFIX]; repeatable.") var inbound:
        [String] = []
    @Option(name: .long, help: "Both-ways rule FILTER; repeatable.") var both: [String] = []
    @Option(name: .long, help: "MQTT QoS of every rule (0, 1 or 2).") var qos = 1
    @Option(name: .long, help: "Bus endpoint publishers connect to (XSUB side); repeatable.") var frontend:
        [BusEndpoint] = []
    @Option(name: .long, help: "Bus endpoint subscribers connect to (XPUB side); repeatable.") var backend:
        [BusEndpoint] = []
    @Option(name: .customLong("client-id"), help: "MQTT client id (default: vbus-bridge-PID).") var clientID: String?
    @Option(
        name: .customLong("session-expiry"),
        help:
            """
            Keep the MQTT session this many seconds after a disconnect (clean start off): queued and \
            unacknowledged messages survive a bridge restart with the same --client-id.
            """
    ) var sessionExpiry: UInt32?
    @Option(name: .long, help: "Outage buffer: bus messages waiting for the broker (the MQTT session's publish queue).")
    var buffer = 10_000
    @Option(
        name: .customLong("buffer-policy"),
        help:
            """
            When the outage buffer is full: drop-oldest, drop-newest or wait (holds the bus subscription, then \
            its publishers).
            """
    ) var bufferPolicy = "drop-oldest"
    @Option(name: .customLong("stats-interval"), help: "Print the rule counters every N seconds.") var statsInterval:
        Int?

    func run() async throws {
        var file = try config.map { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read \(path)")
            }
            return try BridgeConfigurationFile(yaml: text)
        }
        let rules = (file?.rules ?? []) + (try makeRules())
        guard !rules.isEmpty else { throw ValidationError("give at least one rule: --out, --in, --both or --config") }
        file?.rules = []
        let mqttVersion = self.mqttVersion ?? file?.mqttVersion ?? "5"
        guard ["3.1.1", "5", "auto"].contains(mqttVersion) else {
            throw ValidationError("--mqtt-version must be 3.1.1, 5 or auto")
        }
        var privateBroker: PrivateBroker?
        let (host, port, tls) = try await brokerAddress(
            broker ?? file?.broker, tlsCA: tlsCA ?? file?.tlsCA, starting: &privateBroker)
        defer { privateBroker?.stop() }
        var mqttConfiguration = MQTTClientConfiguration(
            host: host, port: port, version: mqttVersion == "3.1.1" ? .v3_1_1 : .v5,
            clientID: clientID ?? "vbus-bridge-\(ProcessInfo.processInfo.processIdentifier)"
        )
        if let sessionExpiry {
            mqttConfiguration.cleanStart = false
            mqttConfiguration.sessionExpiry = sessionExpiry
        }
        guard buffer > 0 else { throw ValidationError("--buffer must be positive") }
        mqttConfiguration.publishQueueCapacity = buffer
        mqttConfiguration.publishQueuePolicy =
            switch bufferPolicy {
            case "drop-oldest": .dropOldest
            case "drop-newest": .dropNewest
            case "wait": .wait(timeout: .seconds(3_600))
            default:
                throw ValidationError("--buffer-policy must be drop-oldest, drop-newest or wait, got '\(bufferPolicy)'")
            }
        if let username = username ?? file?.username {
            let password = try (passwordFile ?? file?.passwordFile).map { path in
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ValidationError("cannot read \(path)")
                }
                return text.trimmingCharacters(in: .newlines)
            }
            mqttConfiguration.credentials = MQTTCredentials(username: username, password: password)
        }
        mqttConfiguration.tls = tls
        mqttConfiguration.reconnect = MQTTReconnectPolicy()
        mqttConfiguration.alternateEndpoints = try BridgeBrokers.alternates(broker ?? file?.broker, tls: tls != nil)
        if mqttVersion == "auto" {
            mqttConfiguration.version = try await BridgeBrokers.negotiateVersion(mqttConfiguration)
            // The defaults of each version.
            mqttConfiguration.maxInFlight = mqttConfiguration.version == .v5 ? 65_535 : 20
        }
        let frontends = try frontend + (file?.frontend ?? []).map { try BusEndpoint(parsing: $0) }
        let backends = try backend + (file?.backend ?? []).map { try BusEndpoint(parsing: $0) }
        var logger = Logger(label: "vbus")
        logger.logLevel = .warning
        let bus = try VirtualBus(
            configuration: BusConfiguration(frontendBinds: frontends, backendBinds: backends), logger: logger)
        let mqtt = MQTTClient(configuration: mqttConfiguration, logger: logger)
        // Longer than one connect attempt, so that a broker that lets the attempt time out (amqtt
        // at MQTT 5.0) is reported with the attempt's own reason.
        let bridge = MQTTBridge(
            bus: bus, mqtt: mqtt, rules: rules, connectTimeout: mqttConfiguration.connectTimeout * 2, logger: logger)
        let reporting = Task {
            await BridgeEventReport.run(mqtt, address: "\(host):\(port)", bufferPolicy: bufferPolicy)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: bridge)]
        if let statsInterval {
            services.append(
                .init(
                    service: PeriodicStatus(interval: .seconds(statsInterval)) {
                        "vbus bridge: \(describe(bridge.statistics))"
                    }))
        }
        let others = mqttConfiguration.alternateEndpoints.map { " then \($0)" }.joined()
        let version = mqttConfiguration.version == .v5 ? "5" : "3.1.1"
        let busFrontends = bus.endpoints.frontend.dropFirst().joined(separator: ",")
        let busBackends = bus.endpoints.backend.dropFirst().joined(separator: ",")
        Output.line(
            "vbus bridge: \(mqttConfiguration.host):\(mqttConfiguration.port)\(others)"
                + " mqtt \(version), \(rules.count) rule(s)"
                + (busFrontends.isEmpty ? "" : ", bus frontend=\(busFrontends)")
                + (busBackends.isEmpty ? "" : " backend=\(busBackends)")
        )
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await reporting.value  // the client's events end with it
        let dropped = bridge.statistics.reduce(0) { $0 + ($1.failedOut["droppedByPolicy"] ?? 0) }
        if dropped > 0 {
            Output.status(
                """
                vbus bridge: warning: \(dropped) message(s) dropped from the full outage buffer (--buffer \
                \(buffer), --buffer-policy \(bufferPolicy))
                """
            )
        }
        Output.status("vbus bridge: stopped; \(describe(bridge.statistics))")
    }

    private func makeRules() throws -> [BridgeRule] {
        func split(_ text: String) -> (String, String) {
            guard let equals = text.firstIndex(of: "=") else { return (text, "") }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
        guard let qos = UInt8(exactly: qos).flatMap(MQTTQoS.init(rawValue:)) else {
            throw ValidationError("--qos must be 0, 1 or 2")
        }
        return try out.map {
            let (filter, remote) = split($0); return try BridgeRule(.out, filter, remotePrefix: remote, qos: qos)
        }
            + inbound.map {
                let (filter, local) = split($0); return try BridgeRule(.in, filter, localPrefix: local, qos: qos)
            }
            + both.map { try BridgeRule(.both, $0, qos: qos) }
    }

    private func brokerAddress(_ broker: String?, tlsCA: String?, starting privateBroker: inout PrivateBroker?)
        async throws -> (String, Int, MQTTTLSConfiguration?)
    {
        guard let broker else {
            let started = try await PrivateBroker.started()
            privateBroker = started
            Output.status(
                "vbus bridge: no --broker given; started a private mosquitto at \(started.url) (stopped on exit)")
            return ("127.0.0.1", started.port, nil)
        }
        let url = try BridgeBrokers.urls(broker)[0]
        let secure = url.isSecure || tlsCA != nil  // a CA file means TLS, even with mqtt://
        let tls = secure ? MQTTTLSConfiguration(trustRoots: tlsCA.map { .pemFile($0) } ?? .system) : nil
        return (url.host, url.port(tls: secure), tls)
    }
}

func describe(_ statistics: [BridgeRuleStatistics]) -> String {
    statistics.enumerated().map { index, rule in
        """
        rule \(index + 1): out \(rule.forwardedOut) (acked \(rule.acknowledgedOut), failed \
        \(rule.failedOut.values.reduce(0, +))), in \(rule.forwardedIn) (retained \(rule.retainedIn), duplicates \
        \(rule.duplicatesIn), dropped \(rule.droppedIn.values.reduce(0, +)), waited on a full bus \
        \(rule.busFullWaits)), loops prevented \(rule.loopsPrevented)
        """
    }.joined(separator: "; ")
}
