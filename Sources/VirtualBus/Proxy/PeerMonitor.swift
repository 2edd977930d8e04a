import Synchronization
import ZeroMQ

/// Counts what foreign peers do to the proxy's tcp/ipc endpoints: connections accepted and lost
/// (including peers disconnected by libzmq for oversized or malformed traffic) and failed handshakes.
///
/// libzmq reports these on monitor sockets; a ``WorkerThread`` reads both sides' monitors. It is
/// started before the proxy binds, so the monitors' first events already have a reader.
final class PeerMonitor: Sendable {
    let worker: WorkerThread
    private let counters: Counters

    private init(worker: WorkerThread, counters: Counters) {
        self.worker = worker
        self.counters = counters
    }

    var statistics: BusPeerStatistics { counters.value.withLock { $0 } }

    /// How long a stopped monitor waits for the proxy's sockets to go (normally milliseconds after
    /// the proxy exits; a proxy blocked on a foreign peer is interrupted by the context's
    /// termination, which also ends this wait with `ETERM`).
    static let drainLimit = Duration.seconds(1)

    static func start(context: ZMQContext, names: BusEndpointNames) throws(BusError) -> PeerMonitor {
        let counters = Counters()
        let worker = try WorkerThread.start(
            name: "vbus-monitor", context: context, controlEndpoint: names.monitorControl
        ) { control, ready throws(ZMQError) in
            var frontend = try ZMQSocket(context, type: .pair)
            var backend = try ZMQSocket(context, type: .pair)
            // Connect before the proxy binds the monitor endpoints (inproc allows it), so no
            // event is emitted before there is a reader.
            try frontend.connect(names.frontendMonitor)
            try backend.connect(names.backendMonitor)
            ready()
            var poller = ZMQPoller(capacity: 3)
            let frontendIndex = try poller.add(frontend)
            let backendIndex = try poller.add(backend)
            let controlIndex = try poller.add(control)
            // Told to stop, keep reading until both monitored sockets are gone (MONITOR_STOPPED,
            // sent when the proxy's socket is destroyed), bounded. libzmq 4.3.4 leaks an event
            // whose send fails (socket_base_t::monitor_event never closes the message), and a
            // send fails once this reader is closed: closing first leaked the endpoint frame of
            // every DISCONNECTED event of a foreign peer (LeakSanitizer, ipc paths > 33 bytes).
            var stopDeadline: ContinuousClock.Instant?
            var socketsGone = 0
            while socketsGone < 2 {
                var timeout = -1
                if let stopDeadline {
                    timeout = Int((stopDeadline - .now) / .milliseconds(1))
                    if timeout <= 0 { break }
                }
                // After the stop command the control socket stays readable: leave it out of the poll.
                _ = try poller.poll(activeCount: stopDeadline == nil ? nil : 2, timeoutMilliseconds: timeout)
                if stopDeadline == nil, poller.isReadable(controlIndex) { stopDeadline = .now + PeerMonitor.drainLimit }
                if poller.isReadable(frontendIndex) { socketsGone += try counters.drain(frontend) }
                if poller.isReadable(backendIndex) { socketsGone += try counters.drain(backend) }
            }
            frontend.close(lingerMilliseconds: 0)
            backend.close(lingerMilliseconds: 0)
        }
        return PeerMonitor(worker: worker, counters: counters)
    }

    private final class Counters: Sendable {
        let value = Mutex(BusPeerStatistics())

        /// Counts every event waiting on a monitor socket; returns 1 if the monitored socket
        /// reported that it is gone (its monitor stopped), else 0.
        func drain(_ monitor: borrowing ZMQSocket) throws(ZMQError) -> Int {
            var stopped = 0
            while let frames = try monitor.receiveFrames(dontWait: true) {
                guard let event = frames.first.flatMap(ZMQSocketEvent.init(frame:)) else { continue }
                if event == .monitorStopped { stopped = 1 }
                record(event)
            }
            return stopped
        }

        func record(_ event: ZMQSocketEvent) {
            value.withLock { statistics in
                switch event {
                case .accepted:
                    statistics.connectionsAccepted += 1
                case .disconnected:
                    statistics.disconnections += 1
                case .handshakeFailedNoDetail, .handshakeFailedProtocol, .handshakeFailedAuth:
                    statistics.failedHandshakes += 1
                default:
                    break
                }
            }
        }
    }
}

/// What foreign peers did to the bus's tcp/ipc endpoints (both sides together).
public struct BusPeerStatistics: Sendable, Hashable {
    /// Connections accepted.
    public var connectionsAccepted = 0
    /// Connections lost: closed by the peer, or dropped by libzmq for a protocol violation such as a
    /// message over the maximum size.
    public var disconnections = 0
    /// Handshakes that failed (protocol mismatch, CURVE authentication).
    public var failedHandshakes = 0

    /// Connections open now.
    public var openConnections: Int { connectionsAccepted - disconnections }
}
