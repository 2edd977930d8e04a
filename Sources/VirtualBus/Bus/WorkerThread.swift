import ConcurrencyPrimitives
import Synchronization
import ZeroMQ

/// A socket-owning helper thread that is stopped through an `inproc://` PAIR control socket.
///
/// The reply servers (ZAP, remote control) and the peer monitor are built on it. Its body binds the
/// control socket first, reports readiness (or the error that stopped it), and leaves its loop when
/// the control socket becomes readable; it always closes its own sockets, which is what makes
/// terminating the context afterwards safe.
final class WorkerThread: Sendable {
    /// The body: set up (throwing reports a start failure), call `ready()`, serve until the control
    /// socket is readable, close everything.
    typealias Body = @Sendable (_ control: borrowing ZMQSocket, _ ready: () -> Void) throws(ZMQError) -> Void

    let thread: DedicatedThread
    private let commander: Mutex<ZMQSocket>

    private init(thread: DedicatedThread, commander: consuming sending ZMQSocket) {
        self.thread = thread
        self.commander = Mutex(commander)
    }

    /// Starts the thread and waits until its body called `ready()` (or failed).
    static func start(name: String, context: ZMQContext, controlEndpoint: String, body: @escaping Body) throws(BusError)
        -> WorkerThread
    {
        let started = OneShotEvent()
        let failure = Mutex<BusError?>(nil)
        let thread = DedicatedThread.start(name: name) {
            var didStart = false
            do throws(ZMQError) {
                var control = try ZMQSocket(context, type: .pair)
                try control.bind(controlEndpoint)
                try body(control) {
                    didStart = true
                    started.fire()
                }
                control.close(lingerMilliseconds: 0)
            } catch {
                // Before ready(): a start failure. After it: ETERM or a broken socket ends the
                // thread, and its sockets close as their values go away.
                if !didStart { failure.withLock { $0 = BusError(transport: error) } }
            }
            started.fire()
        }
        _ = started.waitBlocking(timeout: .seconds(10))
        if let error = failure.withLock({ $0 }) {
            _ = thread.waitForExitBlocking(timeout: .seconds(1))
            throw error
        }
        let commander = try ZMQSocket.commander(context: context, controlEndpoint: controlEndpoint)
        return WorkerThread(thread: thread, commander: commander)
    }

    /// Sends a command to the thread's body (any message but the one-byte stop). Waits at most
    /// `timeout` for room in the control queue (then ``BusError/Code/highWaterMark``); throws
    /// ``BusError/Code/shutDown`` once stopped.
    func send(_ frames: [[UInt8]], timeout: Duration) throws(BusError) {
        let sent = try commander.withLock { socket throws(BusError) -> Bool in
            guard !socket.isClosed else { throw BusError.shutDown }
            return try mappingZMQErrors { () throws(ZMQError) -> Bool in
                try socket.setSendTimeout(milliseconds: Int32(clamping: timeout.milliseconds))
                return try socket.send(frames: frames)
            }
        }
        guard sent else { throw BusError(.highWaterMark, "\(thread.name) did not take a command within \(timeout)") }
    }

    /// Tells the thread to stop (it closes its sockets and exits). Idempotent.
    func stop() {
        commander.withLock { socket in
            guard !socket.isClosed else { return }
            _ = try? socket.send(frames: [[0x53]], dontWait: true)
            socket.close(lingerMilliseconds: 0)
        }
    }
}

extension ZMQSocket {
    /// The commanding end of a thread's control socket: a PAIR connected to `controlEndpoint`,
    /// used under a lock by whoever stops or wakes the thread.
    static func commander(context: ZMQContext, controlEndpoint: String, receiveTimeoutMilliseconds: Int32? = nil)
        throws(BusError) -> ZMQSocket
    {
        try mappingZMQErrors { () throws(ZMQError) in
            let socket = try ZMQSocket(context, type: .pair)
            try socket.setLinger(milliseconds: 0)
            if let receiveTimeoutMilliseconds { try socket.setReceiveTimeout(milliseconds: receiveTimeoutMilliseconds) }
            try socket.connect(controlEndpoint)
            return socket
        }
    }
}
