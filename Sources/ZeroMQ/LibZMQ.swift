import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The single place that calls libzmq.
///
/// Every wrapper captures `zmq_errno()` immediately after a failing call (before anything else can
/// overwrite it), retries `EINTR` where the call is restartable, and throws ``ZMQError`` naming the
/// failing call. The rest of the module never touches `zmq_*` directly, so the error discipline
/// cannot drift.
package enum LibZMQ {
    // MARK: Context

    static func contextNew() throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let context = zmq_ctx_new() else { throw ZMQError(call: "zmq_ctx_new") }
        return context
    }

    static func contextSet(_ context: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32) throws(ZMQError) {
        try check(zmq_ctx_set(context, option, value), "zmq_ctx_set")
    }

    /// Blocks until every socket of the context is closed (and lingering messages are gone).
    static func contextTerminate(_ context: UnsafeMutableRawPointer) throws(ZMQError) {
        try retryingInterrupts("zmq_ctx_term") { zmq_ctx_term(context) }
    }

    // MARK: Sockets

    static func socket(_ context: UnsafeMutableRawPointer, type: Int32) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let socket = zmq_socket(context, type) else { throw ZMQError(call: "zmq_socket") }
        return socket
    }

    static func close(_ socket: UnsafeMutableRawPointer) {
        // zmq_close only fails for an invalid handle, which ~Copyable ownership rules out.
        _ = zmq_close(socket)
    }

    static func setOption(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        try check(zmq_setsockopt(socket, option, &value, MemoryLayout<Int32>.size), "zmq_setsockopt")
    }

    static func setOption(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int64) throws(ZMQError) {
        var value = value
        try check(zmq_setsockopt(socket, option, &value, MemoryLayout<Int64>.size), "zmq_setsockopt")
    }

    static func setOption(_ socket: UnsafeMutableRawPointer, _ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        try check(zmq_setsockopt(socket, option, bytes, bytes.count), "zmq_setsockopt")
    }

    static func intOption(_ socket: UnsafeMutableRawPointer, _ option: Int32) throws(ZMQError) -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try check(zmq_getsockopt(socket, option, &value, &size), "zmq_getsockopt")
        return value
    }

    static func stringOption(_ socket: UnsafeMutableRawPointer, _ option: Int32) throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        try check(zmq_getsockopt(socket, option, &buffer, &size), "zmq_getsockopt")
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `zmq_bind`, with the real reason when libzmq lost it: on a monitored socket, libzmq 4.3.4
    /// reports a failed bind to the monitor *after* the failure and before returning, and when that
    /// event cannot be queued at once its `EAGAIN` replaces the real `errno` (seen under load:
    /// an address in use reported as "Resource temporarily unavailable"). `zmq_bind` never fails
    /// with `EAGAIN` itself, and a failed bind changes nothing, so it is tried again, a few times,
    /// a millisecond apart (libzmq processes a socket's pending commands at most about once a
    /// millisecond), until the real error shows.
    static func bind(_ socket: UnsafeMutableRawPointer, _ endpoint: String) throws(ZMQError) {
        for attempt in 1...20 {
            if zmq_bind(socket, endpoint) == 0 { return }
            let error = ZMQError(call: "zmq_bind", endpoint: endpoint)
            guard error.code == EAGAIN, attempt < 20 else { throw error }
            usleep(1_000)  // between attempts, bounded: at most 20 ms in all
        }
    }

    static func connect(_ socket: UnsafeMutableRawPointer, _ endpoint: String) throws(ZMQError) {
        try check(zmq_connect(socket, endpoint), "zmq_connect", endpoint: endpoint)
    }

    static func monitor(_ socket: UnsafeMutableRawPointer, endpoint: String, events: Int32) throws(ZMQError) {
        try check(zmq_socket_monitor(socket, endpoint, events), "zmq_socket_monitor", endpoint: endpoint)
    }

    // MARK: Sending and receiving

    /// Sends one frame. Returns `false` when the socket would block (`EAGAIN`): with `ZMQ_DONTWAIT`,
    /// or when a send timeout expired.
    static func send(_ socket: UnsafeMutableRawPointer, _ bytes: UnsafeRawBufferPointer, flags: Int32) throws(ZMQError)
        -> Bool
    {
        try unlessWouldBlock("zmq_send") { zmq_send(socket, bytes.baseAddress, bytes.count, flags) }
    }

    /// Sends one frame from an array (see the buffer variant).
    static func send(_ socket: UnsafeMutableRawPointer, _ bytes: [UInt8], flags: Int32) throws(ZMQError) -> Bool {
        try unlessWouldBlock("zmq_send") { zmq_send(socket, bytes, bytes.count, flags) }
    }

    /// Sends one frame whose bytes libzmq uses where they are, without copying: `owner` is retained
    /// until libzmq lets go of them (possibly on another thread, after a subscriber in this process
    /// released the frame). Returns `false` on `EAGAIN`; the retain is then undone at once.
    static func send(_ socket: UnsafeMutableRawPointer, _ bytes: UnsafeRawBufferPointer, owner: AnyObject, flags: Int32)
        throws(ZMQError) -> Bool
    {
        var message = zmq_msg_t()
        let retained = Unmanaged.passRetained(owner).toOpaque()
        // Cannot fail for a non-null data pointer; libzmq then owns the retain.
        _ = zmq_msg_init_data(
            &message, UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count,
            { _, owner in
                Unmanaged<AnyObject>.fromOpaque(owner!).release()
            }, retained)
        do throws(ZMQError) {
            if try unlessWouldBlock("zmq_msg_send", { zmq_msg_send(&message, socket, flags) }) { return true }
        } catch {
            _ = zmq_msg_close(&message)  // not sent: libzmq calls the free function, the retain goes
            throw error
        }
        _ = zmq_msg_close(&message)
        return false
    }

    static func messageInit(_ message: UnsafeMutablePointer<zmq_msg_t>) {
        // zmq_msg_init cannot fail.
        _ = zmq_msg_init(message)
    }

    static func messageClose(_ message: UnsafeMutablePointer<zmq_msg_t>) {
        _ = zmq_msg_close(message)
    }

    /// Moves `source`'s content into `destination` (both initialized), leaving `source` empty.
    static func messageMove(
        _ destination: UnsafeMutablePointer<zmq_msg_t>, from source: UnsafeMutablePointer<zmq_msg_t>
    ) {
        // zmq_msg_move fails only on invalid messages, which these are not.
        _ = zmq_msg_move(destination, source)
    }

    /// Receives one frame into `message`, releasing its previous content. Returns `false` on `EAGAIN`.
    static func receive(_ socket: UnsafeMutableRawPointer, into message: UnsafeMutablePointer<zmq_msg_t>, flags: Int32)
        throws(ZMQError) -> Bool
    {
        try unlessWouldBlock("zmq_msg_recv") { zmq_msg_recv(message, socket, flags) }
    }

    static func messageBytes(_ message: UnsafeMutablePointer<zmq_msg_t>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: zmq_msg_data(message), count: zmq_msg_size(message))
    }

    static func messageHasMore(_ message: UnsafeMutablePointer<zmq_msg_t>) -> Bool {
        zmq_msg_more(message) != 0
    }

    // MARK: Polling and proxying

    /// Polls; returns the number of ready items (0 on timeout). `EINTR` is retried.
    static func poll(_ items: UnsafeMutablePointer<zmq_pollitem_t>, count: Int, timeoutMilliseconds: Int)
        throws(ZMQError) -> Int
    {
        while true {
            let ready = zmq_poll(items, Int32(count), timeoutMilliseconds)
            if ready >= 0 { return Int(ready) }
            let error = zmq_errno()
            if error == EINTR { continue }
            throw ZMQError(code: error, call: "zmq_poll")
        }
    }

    /// Runs the built-in steerable proxy until `TERMINATE` arrives on `control` (returns normally) or
    /// the context is terminated (throws `ETERM`).
    static func proxySteerable(
        frontend: UnsafeMutableRawPointer, backend: UnsafeMutableRawPointer, control: UnsafeMutableRawPointer
    ) throws(ZMQError) {
        while true {
            if zmq_proxy_steerable(frontend, backend, nil, control) == 0 { return }
            let error = zmq_errno()
            // zmq_proxy_steerable reports a signal as EINTR before it has moved anything further;
            // restarting it keeps the same sockets and state.
            if error == EINTR { continue }
            throw ZMQError(code: error, call: "zmq_proxy_steerable")
        }
    }

    // MARK: CURVE

    /// A new CURVE key pair, Z85-encoded (40 characters each).
    package static func curveKeyPair() throws(ZMQError) -> (publicKey: String, secretKey: String) {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        try check(zmq_curve_keypair(&publicKey, &secretKey), "zmq_curve_keypair")
        defer { secretKey.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        return (string(publicKey), string(secretKey))
    }

    /// The public key that belongs to a Z85-encoded secret key.
    package static func curvePublicKey(forSecretKey secretKey: String) throws(ZMQError) -> String {
        var publicKey = [CChar](repeating: 0, count: 41)
        try check(zmq_curve_public(&publicKey, secretKey), "zmq_curve_public")
        return string(publicKey)
    }

    /// Z85-encodes 32 key bytes (as ZAP requests carry them).
    package static func z85Encode(_ bytes: [UInt8]) -> String? {
        guard bytes.count % 4 == 0 else { return nil }
        var text = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        guard zmq_z85_encode(&text, bytes, bytes.count) != nil else { return nil }
        return string(text)
    }

    private static func string(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func setOption(_ socket: UnsafeMutableRawPointer, _ option: Int32, string: String) throws(ZMQError) {
        try check(zmq_setsockopt(socket, option, string, string.utf8.count), "zmq_setsockopt")
    }

    // MARK: Library facts

    /// Whether libzmq was built with a capability such as `"curve"` or `"ipc"`.
    package static func has(_ capability: String) -> Bool {
        zmq_has(capability) != 0
    }

    /// The runtime libzmq version as `major.minor.patch`.
    package static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    // MARK: Helpers

    private static func check(_ result: Int32, _ call: StaticString, endpoint: String? = nil) throws(ZMQError) {
        if result != 0 { throw ZMQError(call: call, endpoint: endpoint) }
    }

    /// Runs a send or receive again while it is interrupted: `true` when it went through, `false`
    /// when the socket would block (`EAGAIN`), any other failure thrown.
    private static func unlessWouldBlock(_ call: StaticString, _ body: () -> Int32) throws(ZMQError) -> Bool {
        while true {
            if body() >= 0 { return true }
            let error = zmq_errno()
            if error == EINTR { continue }
            if error == EAGAIN { return false }
            throw ZMQError(code: error, call: call)
        }
    }

    private static func retryingInterrupts(_ call: StaticString, _ body: () -> Int32) throws(ZMQError) {
        while body() != 0 {
            let error = zmq_errno()
            if error != EINTR { throw ZMQError(code: error, call: call) }
        }
    }
}
