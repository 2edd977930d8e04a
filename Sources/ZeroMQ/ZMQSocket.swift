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
    case pub, sub, xpub, xsub, pair, rep, req

    var rawValue: Int32 {
        switch self {
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .xpub: ZMQ_XPUB
        case .xsub: ZMQ_XSUB
        case .pair: ZMQ_PAIR
        case .rep: ZMQ_REP
        case .req: ZMQ_REQ
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

    package func setLinger(milliseconds: Int32) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_LINGER, milliseconds)
    }
    package func setSendHighWaterMark(_ value: Int32) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_SNDHWM, value)
    }
    package func setReceiveHighWaterMark(_ value: Int32) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_RCVHWM, value)
    }
    package func setSendTimeout(milliseconds: Int32) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_SNDTIMEO, milliseconds)
    }
    package func setReceiveTimeout(milliseconds: Int32) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_RCVTIMEO, milliseconds)
    }
    /// Largest inbound message a tcp/ipc peer may send; a larger one disconnects the peer (`-1`: no limit).
    package func setMaximumMessageSize(_ bytes: Int64) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_MAXMSGSIZE, bytes)
    }
    /// On PUB/XPUB: fail a send with `EAGAIN` at the high-water mark instead of dropping it silently.
    package func setNoDrop(_ enabled: Bool) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_XPUB_NODROP, Int32(enabled ? 1 : 0))
    }

    /// On XPUB: pass every subscription upstream, not only the first one for each prefix.
    package func setVerbose(_ enabled: Bool) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_XPUB_VERBOSE, Int32(enabled ? 1 : 0))
    }

    /// Makes this socket a CURVE server with a Z85 secret key (for its tcp/ipc connections).
    package func setCurveServer(secretKey: String) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_CURVE_SERVER, Int32(1))
        try LibZMQ.setOption(handle, ZMQ_CURVE_SECRETKEY, string: secretKey)
    }

    /// Makes this socket a CURVE client of the server with `serverKey` (all keys Z85).
    package func setCurveClient(serverKey: String, publicKey: String, secretKey: String) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_CURVE_SERVERKEY, string: serverKey)
        try LibZMQ.setOption(handle, ZMQ_CURVE_PUBLICKEY, string: publicKey)
        try LibZMQ.setOption(handle, ZMQ_CURVE_SECRETKEY, string: secretKey)
    }

    /// Limits how long a connection handshake may take (a peer that never finishes it is dropped).
    package func setHandshakeInterval(milliseconds: Int32) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_HANDSHAKE_IVL, milliseconds)
    }

    /// Publishes this socket's connection events on a PAIR socket bound at `endpoint` (inproc).
    package func monitor(endpoint: String, events: Int32 = ZMQ_EVENT_ALL) throws(ZMQError) {
        try LibZMQ.monitor(handle, endpoint: endpoint, events: events)
    }

    package func subscribe(_ prefix: [UInt8]) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_SUBSCRIBE, bytes: prefix)
    }

    package func unsubscribe(_ prefix: [UInt8]) throws(ZMQError) {
        try LibZMQ.setOption(handle, ZMQ_UNSUBSCRIBE, bytes: prefix)
    }

    // MARK: Traffic

    /// Sends one frame; `more` marks that another frame of the same message follows. Returns `false`
    /// if the socket would block (non-blocking send, or the send timeout expired).
    package func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, dontWait: Bool = false) throws(ZMQError)
        -> Bool
    {
        try LibZMQ.send(handle, bytes, flags: Self.sendFlags(more: more, dontWait: dontWait))
    }

    /// Sends one frame from an array.
    package func send(_ bytes: [UInt8], more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> Bool {
        try LibZMQ.send(handle, bytes, flags: Self.sendFlags(more: more, dontWait: dontWait))
    }

    /// Sends one frame without copying its bytes: `owner` keeps them alive and unchanged until
    /// libzmq is done with them (see ``LibZMQ``'s owner-retaining send).
    package func send(_ bytes: UnsafeRawBufferPointer, owner: AnyObject, more: Bool = false, dontWait: Bool = false)
        throws(ZMQError) -> Bool
    {
        try LibZMQ.send(handle, bytes, owner: owner, flags: Self.sendFlags(more: more, dontWait: dontWait))
    }

    /// Sends a whole message, one frame per element.
    package func send(frames: [[UInt8]], dontWait: Bool = false) throws(ZMQError) -> Bool {
        for (index, frame) in frames.enumerated() {
            if try !send(frame, more: index < frames.count - 1, dontWait: dontWait) { return false }
        }
        return true
    }

    private static func sendFlags(more: Bool, dontWait: Bool) -> Int32 {
        (more ? ZMQ_SNDMORE : 0) | (dontWait ? ZMQ_DONTWAIT : 0)
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

/// Connection events reported by a socket monitor.
package struct ZMQSocketEvent: Sendable, Hashable {
    package var rawValue: UInt16
    package static let accepted = ZMQSocketEvent(rawValue: UInt16(ZMQ_EVENT_ACCEPTED))
    package static let disconnected = ZMQSocketEvent(rawValue: UInt16(ZMQ_EVENT_DISCONNECTED))
    package static let handshakeFailedNoDetail = ZMQSocketEvent(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
    package static let handshakeFailedProtocol = ZMQSocketEvent(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL))
    package static let handshakeFailedAuth = ZMQSocketEvent(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH))
    /// The monitored socket was destroyed: its monitor sends nothing after this.
    package static let monitorStopped = ZMQSocketEvent(rawValue: UInt16(ZMQ_EVENT_MONITOR_STOPPED))

    /// Decodes the first frame of a monitor message (a 16-bit event number, then a 32-bit value).
    package init?(frame: [UInt8]) {
        guard frame.count >= 6 else { return nil }
        rawValue = frame.withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
    }

    package init(rawValue: UInt16) { self.rawValue = rawValue }
}

/// libzmq's built-in steerable proxy.
package enum ZMQProxy {
    /// Forwards between `frontend` and `backend` on the calling thread until `TERMINATE` arrives on
    /// `control` (returns) or the context is terminated (throws `ETERM`).
    package static func runSteerable(
        frontend: borrowing ZMQSocket, backend: borrowing ZMQSocket, control: borrowing ZMQSocket
    ) throws(ZMQError) {
        try LibZMQ.proxySteerable(frontend: frontend.handle, backend: backend.handle, control: control.handle)
    }
}
