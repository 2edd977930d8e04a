import ConcurrencyPrimitives
import Synchronization
import ZeroMQ

/// The XSUB/XPUB proxy thread and the lock-guarded control socket that steers it.
///
/// The thread owns the proxy's three sockets from creation to close. Everyone else talks to it only
/// through the control socket: `PAUSE`, `RESUME`, `STATISTICS` and `TERMINATE`, as libzmq's
/// `zmq_proxy_steerable` understands them.
final class BusProxy: Sendable {
    let thread: DedicatedThread
    /// The resolved addresses of the extra binds (tcp ports filled in).
    let frontendEndpoints: [String]
    let backendEndpoints: [String]
    private let controller: Mutex<ZMQSocket>
    private let metrics: ProxyMetrics

    private init(
        thread: DedicatedThread, frontendEndpoints: [String], backendEndpoints: [String],
        controller: consuming sending ZMQSocket,
        metrics: ProxyMetrics
    ) {
        self.metrics = metrics
        self.thread = thread
        self.frontendEndpoints = frontendEndpoints
        self.backendEndpoints = backendEndpoints
        self.controller = Mutex(controller)
    }

    /// Starts the proxy thread and waits until every endpoint is bound (or one failed).
    /// With `monitored`, both sides report connection events to ``PeerMonitor``'s endpoints.
    static func start(
        context: ZMQContext, names: BusEndpointNames, configuration: BusConfiguration, monitored: Bool,
        metrics: ProxyMetrics
    ) throws(BusError) -> BusProxy {
        let ready = OneShotEvent()
        let outcome = Mutex<Result<([String], [String]), BusError>?>(nil)
        let thread = DedicatedThread.start(name: "vbus-proxy") {
            runProxy(context: context, names: names, configuration: configuration, monitored: monitored) { result in
                outcome.withLock { $0 = result }
                ready.fire()
            }
        }
        // Binding is local work (no network round trip), so a short blocking wait is fine even here.
        guard ready.waitBlocking(timeout: .seconds(10)) else {
            throw BusError(.transport, "the proxy thread did not start within 10 s")
        }
        let (frontends, backends): ([String], [String])
        switch outcome.withLock({ $0 })! {
        case .failure(let error):
            _ = thread.waitForExitBlocking(timeout: .seconds(1))
            throw error
        case .success(let endpoints):
            (frontends, backends) = endpoints
        }
        let controller = try ZMQSocket.commander(
            context: context, controlEndpoint: names.proxyControl, receiveTimeoutMilliseconds: 1000)
        return BusProxy(
            thread: thread, frontendEndpoints: frontends, backendEndpoints: backends, controller: controller,
            metrics: metrics)
    }

    /// Suspends forwarding in both directions (messages queue up to the high-water marks), and
    /// returns once the proxy has paused.
    ///
    /// libzmq does not answer `PAUSE`, so without the confirmation a message published right
    /// after this returned could still be forwarded. The proxy handles its commands in order: its
    /// answer to the `STATISTICS` that follows proves the `PAUSE` was handled.
    func pause() throws(BusError) {
        try command("PAUSE")
        _ = try statistics()
    }

    /// Resumes forwarding.
    func resume() throws(BusError) { try command("RESUME") }

    /// Asks the proxy for its counters; waits up to a second for the answer. Each answer also
    /// updates the proxy's metrics (see ``ProxyMetrics``).
    func statistics() throws(BusError) -> BusStatistics {
        let frames = try controller.withLock { socket throws(BusError) -> [[UInt8]]? in
            guard !socket.isClosed else { throw BusError.shutDown }
            return try mappingZMQErrors { () throws(ZMQError) in
                // A reply that arrived after an earlier timeout would otherwise be read as this one's.
                while try socket.receiveFrames(dontWait: true) != nil {}
                _ = try socket.send(frames: [Array("STATISTICS".utf8)])
                return try socket.receiveFrames()
            }
        }
        guard let frames, frames.count == 8, frames.allSatisfy({ $0.count == 8 }) else {
            throw BusError(
                .controlTimedOut, "the proxy did not report statistics within 1 s (is it blocked by a full subscriber?)"
            )
        }
        let counters = frames.map { $0.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        metrics.record(counters)
        return BusStatistics(counters: counters)
    }

    /// Sends `TERMINATE` and closes the control socket; the thread then closes its sockets and exits.
    /// Idempotent.
    func terminate() {
        controller.withLock { socket in
            guard !socket.isClosed else { return }
            _ = try? socket.send(frames: [Array("TERMINATE".utf8)], dontWait: true)
            socket.close(lingerMilliseconds: 0)
        }
    }

    private func command(_ text: String) throws(BusError) {
        try controller.withLock { socket throws(BusError) in
            guard !socket.isClosed else { throw BusError.shutDown }
            _ = try mappingZMQErrors { () throws(ZMQError) in try socket.send(frames: [Array(text.utf8)]) }
        }
    }
}

/// The proxy thread's body: bind, report, proxy until told to stop, close.
private func runProxy(
    context: ZMQContext,
    names: BusEndpointNames,
    configuration: BusConfiguration,
    monitored: Bool,
    ready: (Result<([String], [String]), BusError>) -> Void
) {
    do throws(ZMQError) {
        var frontend = try ZMQSocket(context, type: .xsub)
        var backend = try ZMQSocket(context, type: .xpub)
        var control = try ZMQSocket(context, type: .pair)
        var frontends: [String] = [], backends: [String] = []
        do throws(ZMQError) {
            try frontend.setReceiveHighWaterMark(configuration.highWaterMark)
            try frontend.setMaximumMessageSize(Int64(configuration.maximumMessageSize) + Int64(BusTopic.maximumLength))
            try backend.setSendHighWaterMark(configuration.highWaterMark)
            // The proxy waits for a full subscriber instead of dropping silently (backpressure reaches
            // the publishers, whose policy decides). Shutdown closes our subscribers first, and
            // terminating the context interrupts a wait on a foreign one.
            try backend.setNoDrop(true)
            // Every new subscription reaches the publishers' side, even for a prefix someone already
            // has: a last-value cache replays its values to each late subscriber that way.
            try backend.setVerbose(true)
            if let curve = configuration.curveServer {
                // Applies to tcp/ipc peers; inproc connections have no handshake.
                try frontend.setCurveServer(secretKey: curve.keys.secretKey)
                try backend.setCurveServer(secretKey: curve.keys.secretKey)
            }
            // A peer that connects but never completes its handshake is dropped after 10 s.
            try frontend.setHandshakeInterval(milliseconds: 10_000)
            try backend.setHandshakeInterval(milliseconds: 10_000)
            if monitored {
                try frontend.monitor(endpoint: names.frontendMonitor)
                try backend.monitor(endpoint: names.backendMonitor)
            }
            try control.bind(names.proxyControl)
            try frontend.bind(names.frontend)
            try backend.bind(names.backend)
            for endpoint in configuration.frontendBinds {
                try frontend.bind(endpoint.url)
                frontends.append(frontend.lastEndpoint)
            }
            for endpoint in configuration.backendBinds {
                try backend.bind(endpoint.url)
                backends.append(backend.lastEndpoint)
            }
            // Subscribe-all towards publishers: every publication reaches the proxy, and filtering
            // happens once, per subscriber, at the XPUB. This is what lets a new publisher know its
            // filter is open (see PublisherSocket).
            _ = try frontend.send(frames: [[1]])
        } catch {
            ready(.failure(BusError(transport: error)))
            return
        }
        ready(.success((frontends, backends)))
        // Returns on TERMINATE, or with ETERM if the context is terminated under it.
        try? ZMQProxy.runSteerable(frontend: frontend, backend: backend, control: control)
        frontend.close(lingerMilliseconds: 0)
        backend.close(lingerMilliseconds: 0)
        control.close(lingerMilliseconds: 0)
    } catch {
        ready(.failure(BusError(transport: error)))
    }
}

/// Runs libzmq work and reports its failure as a ``BusError``.
func mappingZMQErrors<Result: ~Copyable>(_ body: () throws(ZMQError) -> Result) throws(BusError) -> Result {
    do throws(ZMQError) {
        return try body()
    } catch {
        throw BusError(transport: error)
    }
}
