import ArgumentParser
import Logging
import ServiceLifecycle
import VirtualBus

/// `vbus proxy`: a standalone bus other processes join over ipc/tcp.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run a standalone bus until SIGINT/SIGTERM, then shut down in order and exit 0.",
        discussion:
            """
            tcp endpoints default to 127.0.0.1; use tcp://*:PORT to listen on every interface. A port of * picks \
            a free one; the ready line shows the resolved endpoints.
            """
    )

    @Option(name: .long, help: "Endpoint publishers connect to (XSUB side); repeatable.") var frontend: [BusEndpoint] =
        []
    @Option(name: .long, help: "Endpoint subscribers connect to (XPUB side); repeatable.") var backend: [BusEndpoint] =
        []
    @Option(name: .long, help: "Endpoint answering `vbus stats --control`.") var control: BusEndpoint?
    @Option(name: .customLong("curve-server-secret"), help: "File with the bus's CURVE secret key (turns CURVE on).")
    var curveServerSecret: String?
    @Option(name: .customLong("curve-allow"), help: "File with the allowed client public keys, one per line.")
    var curveAllow: String?
    @Option(name: .customLong("stats-interval"), help: "Print the proxy's counters every N seconds.") var statsInterval:
        Int?

    func validate() throws {
        guard !frontend.isEmpty || !backend.isEmpty else {
            throw ValidationError("give at least one --frontend or --backend endpoint")
        }
        guard (curveServerSecret == nil) == (curveAllow == nil) else {
            throw ValidationError("--curve-server-secret and --curve-allow go together")
        }
    }

    func run() async throws {
        var configuration = BusConfiguration(frontendBinds: frontend, backendBinds: backend)
        configuration.controlBind = control
        if let curveServerSecret, let curveAllow {
            configuration.curveServer = CurveServerSecurity(
                keys: try CurveKeyPair(secretKey: try KeyFile.read(curveServerSecret)),
                allowedClientKeys: Set(try KeyFile.lines(curveAllow))
            )
        }
        let bus = try VirtualBus(configuration: configuration)
        let frontends = bus.endpoints.frontend.dropFirst().joined(separator: ",")
        let backends = bus.endpoints.backend.dropFirst().joined(separator: ",")
        let curve = configuration.curveServer.map { " curve=\($0.keys.publicKey)" } ?? ""
        Output.line("vbus proxy: ready frontend=\(frontends) backend=\(backends)\(curve)")
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: bus)]
        if let statsInterval {
            services.append(
                .init(
                    service: PeriodicStatus(interval: .seconds(statsInterval)) {
                        guard let statistics = try? bus.statistics() else { return nil }
                        let peers = bus.peerStatistics
                        return
                            """
                            vbus proxy: \(statistics.json) peers: open=\(peers.openConnections) \
                            disconnected=\(peers.disconnections) failed-handshakes=\(peers.failedHandshakes) \
                            refused-keys=\(bus.securityStatistics.refused)
                            """
                    }))
        }
        var logger = Logger(label: "vbus")
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        let report = await bus.shutdown()
        Output.status("vbus proxy: \(report)")
        if !report.isComplete { throw ExitCode(3) }
    }
}

/// Prints a status line every `interval` (`--stats-interval`) until graceful shutdown, or until
/// `line` returns `nil`.
struct PeriodicStatus: Service {
    let interval: Duration
    let line: @Sendable () -> String?

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            guard let text = line() else { return }
            Output.status(text)
        }
    }
}
