public import Logging
import Synchronization
import ZeroMQ

/// An in-process message bus: a ZeroMQ XSUB/XPUB proxy on its own thread, synchronous publishers,
/// and async subscribers that each own a run loop thread.
///
/// ```swift
/// let bus = try VirtualBus()
/// let readings = try await bus.subscribe(to: ["sensors/"])
/// let publisher = try bus.makePublisher()
/// try publisher.publish(topic: "sensors/temp", payload: "21.5")
/// for await message in readings { print(message.topic, message.payloadString) }
/// await bus.shutdown()
/// ```
///
/// Shutdown is explicit and ordered (see ``shutdown(deadline:)``); a bus released without it shuts
/// itself down in `deinit`, synchronously and with the same order.
public final class VirtualBus: Sendable {
    /// The endpoints a foreign ZeroMQ peer can use to reach this bus.
    public struct Endpoints: Sendable, Hashable {
        /// Where publishers connect (XSUB side): the in-process endpoint first, then the extra binds
        /// with ports resolved.
        public var frontend: [String]
        /// Where subscribers connect (XPUB side), in the same order.
        public var backend: [String]
    }

    /// The configuration the bus was created with.
    public let configuration: BusConfiguration
    /// The endpoints bound by this bus.
    public let endpoints: Endpoints

    let names: BusEndpointNames
    let context: ZMQContext
    /// The proxy thread; `nil` for a bus connected to a remote one.
    let proxy: BusProxy?
    /// The CURVE allow-list and its ZAP server; `nil` without ``BusConfiguration/curveServer``.
    let zap: (policy: ZAPPolicy, server: WorkerThread)?
    /// Answers `vbus stats` on ``BusConfiguration/controlBind``.
    let controlServer: WorkerThread?
    /// Counts foreign peers' connections; only with extra endpoints.
    let peerMonitor: PeerMonitor?
    /// Sends subscription handshake probes; made on first use.
    let handshakePublisher = Mutex<PublisherSocket?>(nil)
    let registry = Mutex(BusRegistry())
    let logger: Logger
    /// Where the bus's instruments come from, with its `bus` dimension.
    let metrics: BusMetrics

    /// Creates the context, starts the proxy thread and binds every endpoint.
    ///
    /// Fails with an error naming the endpoint when one cannot be bound (address in use, malformed).
    public convenience init(
        configuration: BusConfiguration = BusConfiguration(), logger: Logger = Logger(label: "VirtualBus")
    ) throws(BusError) {
        try self.init(
            names: BusEndpointNames(busID: .random(in: 1...UInt64.max)), runsProxy: true, configuration: configuration,
            logger: logger)
    }

    /// Connects to a bus in another process (run by `vbus proxy` or another ``VirtualBus`` with
    /// extra endpoints): publishers connect to its `frontend`, subscribers to its `backend`.
    ///
    /// The result has the same API and the same shutdown guarantees as a local bus, without a proxy
    /// of its own (`pause`, `resume` and `statistics` throw). Either endpoint may be omitted when
    /// only publishing or only subscribing; without `frontend`, `subscribe` cannot confirm that its
    /// subscription reached the remote proxy and returns once connected. With
    /// ``BusConfiguration/curveClient`` set, tcp/ipc connections use CURVE.
    public static func connect(
        frontend: BusEndpoint? = nil,
        backend: BusEndpoint? = nil,
        configuration: BusConfiguration = BusConfiguration(),
        logger: Logger = Logger(label: "VirtualBus")
    ) throws(BusError) -> VirtualBus {
        let names = BusEndpointNames(
            busID: .random(in: 1...UInt64.max), remoteFrontend: frontend?.url, remoteBackend: backend?.url)
        return try VirtualBus(names: names, runsProxy: false, configuration: configuration, logger: logger)
    }

    private init(names: BusEndpointNames, runsProxy: Bool, configuration: BusConfiguration, logger: Logger)
        throws(BusError)
    {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        self.names = names
        let metrics = BusMetrics(factory: configuration.metricsFactory, bus: names.identity)
        self.metrics = metrics
        let context = try mappingZMQErrors { () throws(ZMQError) in try ZMQContext(ioThreads: configuration.ioThreads) }
        var servers: [WorkerThread] = []
        let zap: (policy: ZAPPolicy, server: WorkerThread)?, proxy: BusProxy?, controlServer: WorkerThread?,
            peerMonitor: PeerMonitor?
        do throws(BusError) {
            // The ZAP handler must be bound before any CURVE endpoint can take a connection.
            if let curve = configuration.curveServer {
                let policy = ZAPPolicy(allowedKeys: curve.allowedClientKeys)
                let server = try ReplyServer.start(
                    name: "vbus-zap", context: context, endpoint: "inproc://zeromq.zap.01",
                    controlEndpoint: names.zapControl, handler: policy.answer
                )
                servers.append(server)
                zap = (policy, server)
            } else {
                zap = nil
            }
            let hasExtraEndpoints = !configuration.frontendBinds.isEmpty || !configuration.backendBinds.isEmpty
            if runsProxy && hasExtraEndpoints {
                let monitor = try PeerMonitor.start(context: context, names: names)
                servers.append(monitor.worker)
                peerMonitor = monitor
            } else {
                peerMonitor = nil
            }
            proxy =
                runsProxy
                ? try BusProxy.start(
                    context: context, names: names, configuration: configuration, monitored: peerMonitor != nil,
                    metrics: metrics.proxy()
                ) : nil
            if let controlBind = configuration.controlBind, let proxy {
                controlServer = try ReplyServer.start(
                    name: "vbus-control", context: context, endpoint: controlBind.url,
                    controlEndpoint: names.remoteControlControl, handler: RemoteControl(proxy: proxy).answer
                )
            } else {
                controlServer = nil
            }
        } catch {
            for server in servers { server.stop(); _ = server.thread.waitForExitBlocking(timeout: .seconds(1)) }
            try? context.terminate()
            throw error
        }
        self.context = context
        self.zap = zap
        self.proxy = proxy
        self.controlServer = controlServer
        self.peerMonitor = peerMonitor
        endpoints = Endpoints(
            frontend: runsProxy
                ? [names.frontend] + (proxy?.frontendEndpoints ?? []) : names.frontendConnect.map { [$0] } ?? [],
            backend: runsProxy
                ? [names.backend] + (proxy?.backendEndpoints ?? []) : names.backendConnect.map { [$0] } ?? []
        )
        logger.debug("bus started", metadata: ["frontend": "\(endpoints.frontend)", "backend": "\(endpoints.backend)"])
    }

    deinit {
        // Released without shutdown(): run the same ordered sequence here, synchronously. Nothing
        // async may outlive deinit, and the sequence is bounded, so this cannot hang the process.
        let members: BusRegistry.Members? = registry.withLock { registry in
            guard registry.isRunning else { return nil }
            return registry.takeMembers()
        }
        guard let members else { return }
        let report = shutdownSequence(members, deadline: .now + .seconds(2), order: .ordered).run()
        logger.debug("bus released without shutdown(); shut down in deinit", metadata: ["report": "\(report)"])
    }

    func shutdownSequence(_ members: BusRegistry.Members, deadline: ContinuousClock.Instant, order: ShutdownOrder)
        -> ShutdownSequence
    {
        ShutdownSequence(
            members: members, proxy: proxy, servers: workers, context: context,
            lingerMilliseconds: configuration.lingerMilliseconds, deadline: deadline, logger: logger, order: order
        )
    }

    /// Whether shutdown has begun (publishing and subscribing then throw ``BusError/Code/shutDown``).
    public var isShutDown: Bool { registry.withLock { !$0.isRunning } }

    // MARK: Publishers

    /// Creates a publisher connected to the bus. Returns once the proxy accepts its messages, so
    /// nothing it publishes is lost to a connection still being set up.
    ///
    /// - Parameter policy: what to do at the high-water mark; the configuration's default if `nil`.
    public func makePublisher(policy: PublishPolicy? = nil) throws(BusError) -> BusPublisher {
        let policy = policy ?? configuration.publishPolicy
        guard let frontend = names.frontendConnect else {
            throw BusError(
                .invalidConfiguration, "this bus was connected without a frontend endpoint: it cannot publish")
        }
        var sendTimeout: Duration?
        if case .block(let timeout) = policy { sendTimeout = timeout }
        let (id, socket) = try connecting { (id: UInt64) throws(BusError) in
            try PublisherSocket(
                context: context, endpoint: frontend, configuration: configuration, sendTimeout: sendTimeout,
                metrics: metrics.publisher(id: id)
            )
        }
        guard registry.withLock({ $0.add(socket, id: id) }) else {
            socket.close(lingerMilliseconds: 0)
            throw BusError.shutDown
        }
        return BusPublisher(
            socket: socket, policy: policy, configuration: configuration,
            registration: BusRegistration(bus: self, id: id, kind: .publisher)
        )
    }

    /// The publisher that sends subscription handshake probes, made on first use (`nil` when the
    /// bus has no frontend to publish to).
    func probePublisher() throws(BusError) -> PublisherSocket? {
        guard let frontend = names.frontendConnect else { return nil }
        return try handshakePublisher.withLock { publisher throws(BusError) -> PublisherSocket in
            if let publisher { return publisher }
            let (id, socket) = try connecting { (_: UInt64) throws(BusError) in
                try PublisherSocket(
                    context: context, endpoint: frontend, configuration: configuration, sendTimeout: nil, metrics: nil)
            }
            guard registry.withLock({ $0.add(socket, id: id) }) else {
                socket.close(lingerMilliseconds: 0)
                throw BusError.shutDown
            }
            publisher = socket
            return socket
        }
    }

    /// Runs `connect` (which connects a socket to the proxy) counted as a connection in progress,
    /// so that shutdown keeps the proxy's endpoints bound until it is done. `connect` gets the id
    /// the member will be registered under.
    func connecting<Member>(_ connect: (_ id: UInt64) throws(BusError) -> Member) throws(BusError) -> (UInt64, Member) {
        let id = try registry.withLock { registry throws(BusError) -> UInt64 in try registry.beginConnecting() }
        defer { registry.withLock { $0.endConnecting() } }
        return (id, try connect(id))
    }

    // MARK: Proxy control

    /// Suspends the proxy: messages queue up (to the high-water marks) until ``resume()``.
    /// Returns once the proxy has paused: nothing published after it returns is delivered before
    /// ``resume()``. New subscriptions cannot complete while the proxy is paused.
    public func pause() throws(BusError) { try ownProxy().pause() }

    /// Resumes a paused proxy.
    public func resume() throws(BusError) { try ownProxy().resume() }

    /// The proxy's message and byte counters, per side and direction.
    public func statistics() throws(BusError) -> BusStatistics { try ownProxy().statistics() }

    /// What foreign peers did to the extra endpoints (all zero without extra endpoints).
    public var peerStatistics: BusPeerStatistics { peerMonitor?.statistics ?? BusPeerStatistics() }

    /// The helper threads (remote control, peer monitor, ZAP), in the order shutdown stops them.
    var workers: [WorkerThread] { [controlServer, peerMonitor?.worker, zap?.server].compactMap { $0 } }

    /// The CURVE handler's counters (all zero without ``BusConfiguration/curveServer``).
    public var securityStatistics: BusSecurityStatistics { zap?.policy.statistics ?? BusSecurityStatistics() }

    private func ownProxy() throws(BusError) -> BusProxy {
        guard let proxy else {
            throw BusError(.invalidConfiguration, "a bus connected to a remote one has no proxy of its own")
        }
        return proxy
    }

    func unregister(id: UInt64, kind: BusRegistration.Kind) {
        registry.withLock { registry in
            switch kind {
            case .publisher: registry.removePublisher(id)
            case .subscription: registry.retireRunLoop(id)
            case .consumerTask: registry.removeConsumerTask(id)
            case .worker: registry.removeWorker(id)
            }
        }
    }
}
