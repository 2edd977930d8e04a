import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The libzmq socket types this package uses.
package enum ZMQSocketType: Sendable {
    case pub, sub, xpub, xsub, pair

    var rawValue: Int32 {
        switch self {
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .xpub: ZMQ_XPUB
        case .xsub: ZMQ_XSUB
        case .pair: ZMQ_PAIR
        }
    }
}

/// One libzmq socket, owned by exactly one value.
///
/// `~Copyable` because a bitwise copy closed twice is a use-after-free inside libzmq. libzmq sockets
/// are not thread-safe: the owner either keeps the socket on one thread or guards it with a lock
/// (a lock hand-over is the full memory barrier libzmq requires for migrating a socket).
package struct ZMQSocket: ~Copyable {
    private var _handle: UnsafeMutableRawPointer?

    /// Creates a socket of `type` in `context`.
    package init(_ context: ZMQContext, type: ZMQSocketType) throws(ZMQError) {
        _handle = try context.makeSocketHandle(type: type.rawValue)
    }

    deinit {
        if let _handle { LibZMQ.close(_handle) }
    }

    /// The open handle; a closed socket fails every call with `ENOTSOCK`.
    var handle: UnsafeMutableRawPointer {
        get throws(ZMQError) {
            guard let _handle else { throw ZMQError(code: ENOTSOCK, call: "zmq_socket (closed)") }
            return _handle
        }
    }

    /// Whether ``close(lingerMilliseconds:)`` has been called.
    package var isClosed: Bool { _handle == nil }

    /// Closes the socket after setting its linger period (how long unsent messages may keep the
    /// context's termination waiting); `0` discards them at once. Later calls do nothing.
    package mutating func close(lingerMilliseconds: Int32) {
        guard let handle = _handle else { return }
        try? LibZMQ.setOption(handle, ZMQ_LINGER, lingerMilliseconds)
        LibZMQ.close(handle)
        _handle = nil
    }

    // MARK: Endpoints

    package func bind(_ endpoint: String) throws(ZMQError) { try LibZMQ.bind(handle, endpoint) }
    package func connect(_ endpoint: String) throws(ZMQError) { try LibZMQ.connect(handle, endpoint) }

    /// The endpoint the socket bound last, with the port resolved for `tcp://host:*` binds.
    package var lastEndpoint: String {
        (try? LibZMQ.stringOption(handle, ZMQ_LAST_ENDPOINT)) ?? ""
    }

    // MARK: Options

    package func setLinger(milliseconds: Int32) throws(ZMQError) { try LibZMQ.setOption(handle, ZMQ_LINGER, milliseconds) }
    package func setSendHighWaterMark(_ value: Int32) throws(ZMQError) { try LibZMQ.setOption(handle, ZMQ_SNDHWM, value) }
    package func setReceiveHighWaterMark(_ value: Int32) throws(ZMQError) { try LibZMQ.setOption(handle, ZMQ_RCVHWM, value) }
    package func setSendTimeout(milliseconds: Int32) throws(ZMQError) { try LibZMQ.setOption(handle, ZMQ_SNDTIMEO, milliseconds) }
    package func setReceiveTimeout(milliseconds: Int32) throws(ZMQError) { try LibZMQ.setOption(handle, ZMQ_RCVTIMEO, milliseconds) }
    /// Largest inbound message a tcp/ipc peer may send; a larger one disconnects the peer (`-1`: no limit).
    package func setMaximumMessageSize(_ bytes: Int64) throws(ZMQError) { try LibZMQ.setOption(handle, ZMQ_MAXMSGSIZE, bytes) }
    /// On PUB/XPUB: fail a send with `EAGAIN` at the high-water mark instead of dropping it silently.
    package func setNoDrop(_ enabled: Bool) throws(ZMQError) { try LibZMQ.setOption(handle, ZMQ_XPUB_NODROP, Int32(enabled ? 1 : 0)) }

    package func subscribe(_ prefix: [UInt8]) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_SUBSCRIBE, bytes: prefix)
    }

    package func unsubscribe(_ prefix: [UInt8]) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_UNSUBSCRIBE, bytes: prefix)
    }

    // MARK: Traffic

    /// Sends one frame; `more` marks that another frame of the same message follows. Returns `false`
    /// if the socket would block (non-blocking send, or the send timeout expired).
    package func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> Bool {
        var flags: Int32 = 0
        if more { flags |= ZMQ_SNDMORE }
        if dontWait { flags |= ZMQ_DONTWAIT }
        return try LibZMQ.send(handle, bytes, flags: flags)
    }

    /// Sends a whole message, one frame per element.
    package func send(frames: [[UInt8]], dontWait: Bool = false) throws(ZMQError) -> Bool {
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            if try !LibZMQ.send(handle, frame, flags: flags) { return false }
        }
        return true
    }

    /// Receives one frame into `message`. Returns `false` if none is ready (non-blocking receive, or
    /// the receive timeout expired).
    package func receive(into message: inout ZMQMessage, dontWait: Bool = false) throws(ZMQError) -> Bool {
        try LibZMQ.receive(handle, into: message.pointer, flags: dontWait ? ZMQ_DONTWAIT : 0)
    }

    /// Receives every frame of the next message as byte arrays (`nil` when none is ready).
    package func receiveFrames(dontWait: Bool = false) throws(ZMQError) -> [[UInt8]]? {
        var message = ZMQMessage()
        guard try receive(into: &message, dontWait: dontWait) else { return nil }
        var frames = [message.bytes]
        while message.hasMore {
            _ = try receive(into: &message)
            frames.append(message.bytes)
        }
        return frames
    }
}

/// libzmq's built-in steerable proxy.
package enum ZMQProxy {
    /// Forwards between `frontend` and `backend` on the calling thread until `TERMINATE` arrives on
    /// `control` (returns) or the context is terminated (throws `ETERM`).
    package static func runSteerable(frontend: borrowing ZMQSocket, backend: borrowing ZMQSocket, control: borrowing ZMQSocket) throws(ZMQError) {
        try LibZMQ.proxySteerable(frontend: frontend.handle, backend: backend.handle, control: control.handle)
    }
}
