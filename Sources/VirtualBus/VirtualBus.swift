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
    let proxy: BusProxy
    let handshakePublisher: PublisherSocket
    let registry = Mutex(BusRegistry())
    let logger: Logger

    /// Creates the context, starts the proxy thread and binds every endpoint.
    ///
    /// Fails with an error naming the endpoint when one cannot be bound (address in use, malformed).
    public init(configuration: BusConfiguration = BusConfiguration(), logger: Logger = Logger(label: "VirtualBus")) throws(BusError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        names = BusEndpointNames(busID: UInt64.random(in: 1...UInt64.max))
        do throws(ZMQError) {
            context = try ZMQContext(ioThreads: configuration.ioThreads)
        } catch {
            throw BusError(transport: error)
        }
        let proxy: BusProxy
        do throws(BusError) {
            proxy = try BusProxy.start(context: context, names: names, configuration: configuration)
        } catch {
            try? context.terminate()
            throw error
        }
        self.proxy = proxy
        endpoints = Endpoints(
            frontend: [names.frontend] + proxy.frontendEndpoints,
            backend: [names.backend] + proxy.backendEndpoints
        )
        do throws(BusError) {
            handshakePublisher = try PublisherSocket(context: context, endpoint: names.frontend, configuration: configuration, sendTimeout: nil)
        } catch {
            proxy.terminate()
            _ = proxy.thread.waitForExitBlocking(timeout: .seconds(1))
            try? context.terminate()
            throw error
        }
        let handshakeID = registry.withLock { $0.makeID() }
        _ = registry.withLock { $0.add(handshakePublisher, id: handshakeID) }
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
        let report = ShutdownSequence(
            members: members, proxy: proxy, context: context,
            lingerMilliseconds: configuration.lingerMilliseconds, deadline: .now + .seconds(2), logger: logger
        ).run()
        logger.debug("bus released without shutdown(); shut down in deinit", metadata: ["report": "\(report)"])
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
        let id = try registry.withLock { registry throws(BusError) -> UInt64 in try registry.beginConnecting() }
        var sendTimeout: Duration?
        if case .block(let timeout) = policy { sendTimeout = timeout }
        let socket: PublisherSocket
        do throws(BusError) {
            socket = try PublisherSocket(context: context, endpoint: names.frontend, configuration: configuration, sendTimeout: sendTimeout)
            registry.withLock { $0.endConnecting() }
        } catch {
            registry.withLock { $0.endConnecting() }
            throw error
        }
        guard registry.withLock({ $0.add(socket, id: id) }) else {
            socket.close(lingerMilliseconds: 0)
            throw BusError.shutDown
        }
        return BusPublisher(
            socket: socket, policy: policy, maximumMessageSize: configuration.maximumMessageSize,
            registration: BusRegistration(bus: self, id: id, kind: .publisher)
        )
    }

    // MARK: Proxy control

    /// Suspends the proxy: messages queue up (to the high-water marks) until ``resume()``.
    /// New subscriptions cannot complete while the proxy is paused.
    public func pause() throws(BusError) { try proxy.pause() }

    /// Resumes a paused proxy.
    public func resume() throws(BusError) { try proxy.resume() }

    /// The proxy's message and byte counters, per side and direction.
    public func statistics() throws(BusError) -> BusStatistics { try proxy.statistics() }

    func unregister(id: UInt64, kind: BusRegistration.Kind) {
        registry.withLock { registry in
            switch kind {
            case .publisher: registry.removePublisher(id)
            case .subscription: registry.retireRunLoop(id)
            case .consumerTask: registry.removeConsumerTask(id)
            }
        }
    }
}
