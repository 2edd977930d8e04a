import CZeroMQ
import Synchronization

/// A libzmq context: the owner of every socket and of libzmq's I/O threads.
///
/// libzmq contexts are thread-safe, so this is `Sendable`. Termination is explicit and happens
/// once: ``terminate()`` blocks until every socket of the context is closed, which is exactly why
/// callers must close sockets first (the hang in the PyZMQ field report is a terminate issued while
/// a run loop still held its socket).
// @unchecked: libzmq contexts are thread-safe by contract, `handle` never changes after init,
// and the termination phase is guarded by `state`'s mutex.
package final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    private let state = Mutex(Phase.open)

    private enum Phase { case open, terminating, terminated }

    /// Creates a context with `ioThreads` I/O threads (inproc traffic uses none).
    package init(ioThreads: Int32 = 1) throws(ZMQError) {
        handle = try LibZMQ.contextNew()
        do {
            try LibZMQ.contextSet(handle, ZMQ_IO_THREADS, ioThreads)
            // Sockets get an explicit linger from their owners; a context-wide blocky default
            // would make a forgotten socket hang termination forever.
            try LibZMQ.contextSet(handle, ZMQ_BLOCKY, 0)
        } catch {
            try? LibZMQ.contextTerminate(handle)
            throw error
        }
    }

    /// Whether ``terminate()`` has started.
    package var isTerminating: Bool { state.withLock { $0 != .open } }

    /// Whether ``terminate()`` has returned.
    package var isTerminated: Bool { state.withLock { $0 == .terminated } }

    /// Terminates the context, blocking until all of its sockets are closed. Idempotent: only the first
    /// call terminates; later calls return at once.
    package func terminate() throws(ZMQError) {
        let first = state.withLock { phase in
            guard phase == .open else { return false }
            phase = .terminating
            return true
        }
        guard first else { return }
        try LibZMQ.contextTerminate(handle)
        state.withLock { $0 = .terminated }
    }

    /// Creates a raw socket, unless termination has begun: then throws `ETERM` instead of handing
    /// libzmq a context that `zmq_ctx_term` may already have freed. Creating under the phase lock
    /// means every socket either exists before termination starts (and is waited for by it) or is
    /// never created. Found by the shutdown suite: a `subscribe` racing `shutdown` got `EFAULT`.
    func makeSocketHandle(type: Int32) throws(ZMQError) -> UnsafeMutableRawPointer {
        try state.withLock { phase throws(ZMQError) -> UnsafeMutableRawPointer in
            guard phase == .open else { throw ZMQError(code: ETERM, call: "zmq_socket") }
            return try LibZMQ.socket(handle, type: type)
        }
    }

    deinit {
        // A context never terminated explicitly is terminated here; its owner guarantees that no
        // socket is left (VirtualBus closes all of them before it lets go of the context).
        if state.withLock({ $0 == .open }) {
            try? LibZMQ.contextTerminate(handle)
        }
    }
}
