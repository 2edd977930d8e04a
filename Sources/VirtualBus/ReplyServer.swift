import Synchronization
import ZeroMQ

/// Answers requests on a REP socket from a ``WorkerThread``: the bus's ZAP handler (CURVE
/// allow-list) and its remote control endpoint are both one of these.
enum ReplyServer {
    /// Answers one request (a list of frames) with a reply.
    typealias Handler = @Sendable ([[UInt8]]) -> [[UInt8]]

    /// Binds `endpoint` on a new worker thread and waits until it is bound (or failed).
    static func start(
        name: String,
        context: ZMQContext,
        endpoint: String,
        controlEndpoint: String,
        handler: @escaping Handler
    ) throws(BusError) -> WorkerThread {
        try WorkerThread.start(name: name, context: context, controlEndpoint: controlEndpoint) { control, ready throws(ZMQError) in
            var server = try ZMQSocket(context, type: .rep)
            try server.bind(endpoint)
            ready()
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
        }
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
