/// Where one bus's sockets bind and connect.
///
/// Local names are `inproc://` with a unique stem per bus, so several buses in one process never
/// collide. A bus connected to a remote one connects its publishers and subscribers to the remote
/// endpoints instead, and keeps only its control sockets in-process.
struct BusEndpointNames: Sendable {
    let stem: String
    /// Where this bus's publishers connect (`nil`: publishing is not possible).
    let frontendConnect: String?
    /// Where this bus's subscribers connect (`nil`: subscribing is not possible).
    let backendConnect: String?

    /// Names for a bus with its own proxy.
    init(busID: UInt64) {
        stem = "inproc://vbus-\(String(busID, radix: 16))"
        frontendConnect = "\(stem)-frontend"
        backendConnect = "\(stem)-backend"
    }

    /// Names for a bus connected to a remote proxy.
    init(busID: UInt64, remoteFrontend: String?, remoteBackend: String?) {
        stem = "inproc://vbus-\(String(busID, radix: 16))"
        frontendConnect = remoteFrontend
        backendConnect = remoteBackend
    }

    /// What names this bus in its metrics (the `bus` dimension): the stem without its scheme,
    /// `vbus-<hex id>`, as in the bus's own `inproc://` endpoints.
    var identity: String { String(stem.dropFirst("inproc://".count)) }

    /// The proxy's own in-process binds.
    var frontend: String { "\(stem)-frontend" }
    var backend: String { "\(stem)-backend" }
    var proxyControl: String { "\(stem)-proxy-control" }
    var zapControl: String { "\(stem)-zap-control" }
    var remoteControlControl: String { "\(stem)-remote-control-control" }
    var monitorControl: String { "\(stem)-monitor-control" }
    var frontendMonitor: String { "\(stem)-frontend-monitor" }
    var backendMonitor: String { "\(stem)-backend-monitor" }

    func runLoopControl(_ subscriptionID: UInt64) -> String { "\(stem)-run-loop-\(subscriptionID)" }
    func workerControl(_ workerID: UInt64) -> String { "\(stem)-worker-\(workerID)" }
}
