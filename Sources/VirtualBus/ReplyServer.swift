import Synchronization
import ZeroMQ

/// A socket-owning thread that answers requests on a REP socket: the bus's ZAP handler (CURVE
/// allow-list) and its remote control endpoint are both one of these.
///
/// Like a run loop, it polls its REP socket and a PAIR control socket; shutdown stops it through
/// the control socket, so it always closes its own sockets before the context terminates.
final class ReplyServer: Sendable {
    /// Answers one request (a list of frames) with a reply.
    typealias Handler = @Sendable ([[UInt8]]) -> [[UInt8]]

    let thread: SocketThread
    private let commander: Mutex<ZMQSocket>

    private init(thread: SocketThread, commander: consuming sending ZMQSocket) {
        self.thread = thread
        self.commander = Mutex(commander)
    }

    /// Binds `endpoint` on a new thread and waits until it is bound (or failed).
    static func start(
        name: String,
        context: ZMQContext,
        endpoint: String,
        controlEndpoint: String,
        configure: @escaping @Sendable (borrowing ZMQSocket) throws(ZMQError) -> Void = { _ throws(ZMQError) in },
        handler: @escaping Handler
    ) throws(BusError) -> ReplyServer {
        let ready = OneShotEvent()
        let failure = Mutex<BusError?>(nil)
        let thread = SocketThread.start(name: name) {
            serve(context: context, endpoint: endpoint, controlEndpoint: controlEndpoint, configure: configure, handler: handler) { error in
                failure.withLock { $0 = error }
                ready.fire()
            }
        }
        _ = ready.waitBlocking(timeout: .seconds(10))
        if let error = failure.withLock({ $0 }) {
            _ = thread.waitForExitBlocking(timeout: .seconds(1))
            throw error
        }
        let commander = try mappingZMQErrors { () throws(ZMQError) in
            let socket = try ZMQSocket(context, type: .pair)
            try socket.setLinger(milliseconds: 0)
            try socket.connect(controlEndpoint)
            return socket
        }
        return ReplyServer(thread: thread, commander: commander)
    }

    /// Stops the thread (it closes its sockets). Idempotent.
    func stop() {
        commander.withLock { socket in
            guard !socket.isClosed else { return }
            _ = try? socket.send(frames: [[0x53]], dontWait: true)
            socket.close(lingerMilliseconds: 0)
        }
    }
}

private func serve(
    context: ZMQContext,
    endpoint: String,
    controlEndpoint: String,
    configure: (borrowing ZMQSocket) throws(ZMQError) -> Void,
    handler: ReplyServer.Handler,
    started: (BusError?) -> Void
) {
    var didStart = false
    do throws(ZMQError) {
        var server = try ZMQSocket(context, type: .rep)
        var control = try ZMQSocket(context, type: .pair)
        do throws(ZMQError) {
            try configure(server)
            try server.bind(endpoint)
            try control.bind(controlEndpoint)
        } catch {
            started(BusError(transport: error))
            return
        }
        started(nil)
        didStart = true
        var poller = ZMQPoller(capacity: 2)
        let controlIndex = try poller.add(control)
        let serverIndex = try poller.add(server)
        while true {
            _ = try poller.poll()
            if poller.isReadable(controlIndex) { break }
            guard poller.isReadable(serverIndex), let request = try server.receiveFrames(dontWait: true) else { continue }
            _ = try server.send(frames: handler(request))
        }
        server.close(lingerMilliseconds: 0)
        control.close(lingerMilliseconds: 0)
    } catch {
        // ETERM: the context is being terminated; the sockets close as the values go away.
        if !didStart { started(BusError(transport: error)) }
    }
}

/// The ZAP (ZeroMQ Authentication Protocol, RFC 27) decision for CURVE clients: admit the keys on
/// the allow-list, refuse and count the rest.
final class ZAPPolicy: Sendable {
    private let allowedKeys: Set<String>
    private let counters = Mutex(BusSecurityStatistics())

    init(allowedKeys: Set<String>) {
        self.allowedKeys = allowedKeys
    }

    var statistics: BusSecurityStatistics { counters.withLock { $0 } }

    /// RFC 27 request: version, request id, domain, address, identity, mechanism, credentials...
    func answer(_ request: [[UInt8]]) -> [[UInt8]] {
        let accepted = request.count >= 7
            && request[5] == Array("CURVE".utf8)
            && LibZMQ.z85Encode(request[6]).map(allowedKeys.contains) == true
        counters.withLock { if accepted { $0.accepted += 1 } else { $0.refused += 1 } }
        return [
            Array("1.0".utf8), request.count > 1 ? request[1] : [],
            Array((accepted ? "200" : "400").utf8), Array((accepted ? "OK" : "client key not allowed").utf8),
            [], [],
        ]
    }
}
