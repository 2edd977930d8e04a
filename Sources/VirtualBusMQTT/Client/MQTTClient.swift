import ConcurrencyPrimitives
public import Logging
internal import Metrics
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
public import ServiceLifecycle
import Synchronization

/// An MQTT 3.1.1 / 5.0 client session on SwiftNIO.
///
/// Safe to use from any number of tasks at once: every acknowledgement is matched by packet
/// identifier in one state machine. Run it as a swift-service-lifecycle `Service` (``run()``
/// connects, reconnects if configured, and ends on graceful shutdown or cancellation), or use
/// the scoped ``withConnection(configuration:logger:_:)``.
///
/// Nothing you pass in runs on the event loop: completions and messages resume your tasks, so
/// awaiting a publish inside a subscription loop completes at every QoS.
public final class MQTTClient: Service, Sendable {
    /// The configuration the client was made with.
    public let configuration: MQTTClientConfiguration
    let core: ClientCore
    let logger: Logger
    private let started = Atomic<Bool>(false)
    /// Index into ``MQTTClientConfiguration/endpoints`` of the broker in use (see `moveToNextEndpoint`).
    let endpointIndex = Atomic<Int>(0)
    /// Waits out a reconnect delay; tests put their own clock here.
    let reconnectWait: @Sendable (Duration) async -> Void

    /// Creates a client; nothing happens until ``run()``.
    public init(configuration: MQTTClientConfiguration, logger: Logger = Logger(label: "VirtualBusMQTT")) {
        self.configuration = configuration
        self.logger = logger
        let core = ClientCore(configuration: configuration, logger: logger)
        self.core = core
        self.reconnectWait = { await core.sleep(for: $0) }
    }

    /// A client whose reconnect delays are waited out by `reconnectWait` instead of the clock
    /// (tests of the backoff see each delay and need not spend it).
    init(
        configuration: MQTTClientConfiguration, logger: Logger = Logger(label: "VirtualBusMQTT"),
        reconnectWait: @escaping @Sendable (Duration) async -> Void
    ) {
        self.configuration = configuration
        self.logger = logger
        self.core = ClientCore(configuration: configuration, logger: logger)
        self.reconnectWait = reconnectWait
    }

    /// A client whose instruments come from `metricsFactory` instead of `MetricsSystem.factory`
    /// (tests record metrics without bootstrapping the process-wide system).
    init(
        configuration: MQTTClientConfiguration, logger: Logger = Logger(label: "VirtualBusMQTT"),
        metricsFactory: any MetricsFactory
    ) {
        self.configuration = configuration
        self.logger = logger
        let core = ClientCore(configuration: configuration, logger: logger, metricsFactory: metricsFactory)
        self.core = core
        self.reconnectWait = { await core.sleep(for: $0) }
    }

    deinit { core.shutdown() }

    /// Connects and keeps the session until shutdown. Single-shot: calling it twice is a programmer error.
    ///
    /// Returns after graceful shutdown, cancellation or ``shutdown()``; throws the connection
    /// error when the connection fails and no ``MQTTClientConfiguration/reconnect`` policy is set.
    public func run() async throws {
        precondition(!started.exchange(true, ordering: .relaxed), "MQTTClient.run() called twice")
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await runLoop()
            } onCancel: {
                self.core.shutdown()
            }
        } onGracefulShutdown: {
            self.core.shutdown()
        }
    }

    /// Ends the session: sends DISCONNECT, fails everything pending with ``MQTTError/Code/shutdown``,
    /// ends subscriptions. Idempotent, non-blocking, callable from anywhere (a handler included).
    public func shutdown() { core.shutdown() }

    /// Re-authenticates on the open connection (MQTT 5 enhanced authentication, section 4.12.1):
    /// sends AUTH "re-authenticate" with ``MQTTAuthentication/initialData``, answers challenges
    /// with ``MQTTAuthentication/respond``, and returns when the broker answers "success".
    /// Publishes and deliveries go on meanwhile. A broker that refuses disconnects.
    /// - Throws: ``MQTTError`` — `unsupported` without ``MQTTClientConfiguration/authentication``
    ///   or while another re-authentication runs, `connectionFailed` when not connected,
    ///   `sessionLost` when the connection ends first.
    @discardableResult
    public func reauthenticate() async throws(MQTTError) -> MQTTReasonCode { try await core.reauthenticate() }

    /// The client's events from now on (failed attempts with the delay before the next, lost
    /// connections, CONNACKs with the downtime and what was resent, a publish queue that started
    /// dropping), until the client ends. Each call makes a stream of its own; a consumer that
    /// falls behind keeps the newest 64.
    public func events() -> AsyncStream<MQTTClientEvent> { core.events.makeStream() }

    /// Waits until the broker accepted the connection (CONNACK).
    public func waitUntilConnected() async throws { try await core.waitUntilConnected() }

    /// Connects, runs `body` with the connected client, then shuts down and waits for the end.
    public static func withConnection<Result: Sendable>(
        configuration: MQTTClientConfiguration, logger: Logger = Logger(label: "VirtualBusMQTT"),
        _ body: (MQTTClient) async throws -> Result
    ) async throws -> Result {
        let client = MQTTClient(configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            do {
                try await client.waitUntilConnected()
                let result = try await body(client)
                client.shutdown()
                try await group.waitForAll()
                return result
            } catch {
                client.shutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// What can be refused before connecting, with a clearer reason than a broker would give.
    func checkConfiguration() throws(MQTTError) {
        if configuration.authentication != nil && configuration.version != .v5 {
            throw MQTTError(.unsupported, "enhanced authentication needs MQTT 5")
        }
        try configuration.will?.properties.validateOutbound(for: .will)
    }

    func connectChannel(end: MQTTWaiter<ClientCore.ConnectionEnd>) async throws {
        let sslContext: NIOSSLContext? = try configuration.tls.map { try Self.makeSSLContext($0) }
        let endpoint = currentEndpoint
        let hostname = configuration.tls?.serverHostname ?? endpoint.host
        let core = self.core
        let timeout = configuration.connectTimeout
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(
                .nanoseconds(
                    Int64(timeout.components.seconds) * 1_000_000_000
                        + timeout.components.attoseconds / 1_000_000_000)
            )
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Bursts of small messages: start with a larger receive buffer and read more per
            // event-loop turn, so a busy subscription costs fewer read calls and wake-ups, and
            // the broker's socket to us drains before it has to queue.
            .channelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 1_024, initial: 16_384, maximum: 262_144)
            )
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let isIP = hostname.contains(":") || hostname.allSatisfy { $0.isNumber || $0 == "." }
                        let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: isIP ? nil : hostname)
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    try channel.pipeline.syncOperations.addHandler(MQTTChannelHandler(core: core, end: end))
                }
            }
        _ = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
    }

    static func makeSSLContext(_ tls: MQTTTLSConfiguration) throws(MQTTError) -> NIOSSLContext {
        do {
            var config = TLSConfiguration.makeClientConfiguration()
            config.certificateVerification = tls.verifyServer ? .fullVerification : .none
            if case .pemFile(let path) = tls.trustRoots { config.trustRoots = .file(path) }
            if let cert = tls.clientCertificatePath, let key = tls.clientKeyPath {
                config.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                config.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
            return try NIOSSLContext(configuration: config)
        } catch {
            throw MQTTError(.tls, "invalid TLS configuration: \(error)")
        }
    }
}
