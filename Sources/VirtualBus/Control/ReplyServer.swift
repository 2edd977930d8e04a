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
        try WorkerThread.start(name: name, context: context, controlEndpoint: controlEndpoint) {
            control, ready throws(ZMQError) in
            var server = try ZMQSocket(context, type: .rep)
            try server.bind(endpoint)
            ready()
            var poller = ZMQPoller(capacity: 2)
            let controlIndex = try poller.add(control)
            let serverIndex = try poller.add(server)
            while true {
                _ = try poller.poll()
                if poller.isReadable(controlIndex) { break }
                guard poller.isReadable(serverIndex), let request = try server.receiveFrames(dontWait: true) else {
                    continue
                }
                _ = try server.send(frames: handler(request))
            }
            server.close(lingerMilliseconds: 0)
        }
    }
}
