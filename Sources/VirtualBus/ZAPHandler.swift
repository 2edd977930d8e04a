import Synchronization
import ZeroMQ

/// The bus's ZAP (ZeroMQ Authentication Protocol, RFC 27) handler: admits CURVE clients whose
/// public key is on the allow-list and counts the rest.
///
/// It is a socket-owning thread like a run loop: a REP socket bound at `inproc://zeromq.zap.01` in
/// the bus's context, and a PAIR control socket through which shutdown stops it.
final class ZAPHandler: Sendable {
    let thread: SocketThread
    private let commander: Mutex<ZMQSocket>
    private let counters: Mutex<BusSecurityStatistics>

    private init(thread: SocketThread, commander: consuming sending ZMQSocket) {
        self.thread = thread
        self.commander = Mutex(commander)
        self.counters = Mutex(BusSecurityStatistics())
    }

    var statistics: BusSecurityStatistics { counters.withLock { $0 } }

    /// Binds the handler and starts its thread; must run before any CURVE endpoint is bound.
    static func start(context: ZMQContext, controlEndpoint: String, allowedKeys: Set<String>) throws(BusError) -> ZAPHandler {
        let ready = OneShotEvent()
        let failure = Mutex<BusError?>(nil)
        let statistics = Statistics()
        let thread = SocketThread.start(name: "vbus-zap") {
            serve(context: context, controlEndpoint: controlEndpoint, allowedKeys: allowedKeys, statistics: statistics) { error in
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
        let handler = ZAPHandler(thread: thread, commander: commander)
        statistics.sink.withLock { $0 = handler }
        return handler
    }

    func record(accepted: Bool) {
        counters.withLock { if accepted { $0.accepted += 1 } else { $0.refused += 1 } }
    }

    /// Stops the thread (it closes its sockets). Idempotent.
    func stop() {
        commander.withLock { socket in
            guard !socket.isClosed else { return }
            _ = try? socket.send(frames: [[0x53]], dontWait: true)
            socket.close(lingerMilliseconds: 0)
        }
    }

    /// Lets the thread report to the handler object created after it started.
    final class Statistics: Sendable {
        let sink = Mutex<ZAPHandler?>(nil)
        func record(accepted: Bool) { sink.withLock { $0 }?.record(accepted: accepted) }
    }
}

private func serve(
    context: ZMQContext,
    controlEndpoint: String,
    allowedKeys: Set<String>,
    statistics: ZAPHandler.Statistics,
    started: (BusError?) -> Void
) {
    var didStart = false
    do throws(ZMQError) {
        var zap = try ZMQSocket(context, type: .rep)
        var control = try ZMQSocket(context, type: .pair)
        do throws(ZMQError) {
            try zap.bind("inproc://zeromq.zap.01")
            try control.bind(controlEndpoint)
        } catch {
            started(BusError(transport: error))
            return
        }
        started(nil)
        didStart = true
        var poller = ZMQPoller(capacity: 2)
        let controlIndex = try poller.add(control)
        let zapIndex = try poller.add(zap)
        while true {
            _ = try poller.poll()
            if poller.isReadable(controlIndex) { break }
            guard poller.isReadable(zapIndex), let request = try zap.receiveFrames(dontWait: true) else { continue }
            // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials...
            let accepted = request.count >= 7
                && request[5] == Array("CURVE".utf8)
                && LibZMQ.z85Encode(request[6]).map(allowedKeys.contains) == true
            statistics.record(accepted: accepted)
            let requestID = request.count > 1 ? request[1] : []
            _ = try zap.send(frames: [
                Array("1.0".utf8), requestID,
                Array((accepted ? "200" : "400").utf8), Array((accepted ? "OK" : "client key not allowed").utf8),
                [], [],
            ])
        }
        zap.close(lingerMilliseconds: 0)
        control.close(lingerMilliseconds: 0)
    } catch {
        // ETERM: the context is being terminated; the sockets close as the values go away.
        if !didStart { started(BusError(transport: error)) }
    }
}
