/// The proxy's traffic counters, as reported by libzmq's steerable proxy.
///
/// "Frontend" is the side publishers connect to (XSUB), "backend" the side subscribers connect to
/// (XPUB). Messages received on the frontend are publications; messages received on the backend are
/// subscription changes travelling upstream.
public struct BusStatistics: Sendable, Hashable {
    /// Counters of one direction of one socket.
    public struct Traffic: Sendable, Hashable {
        /// Messages (not frames) counted.
        public var messages: UInt64
        /// Bytes counted.
        public var bytes: UInt64
    }

    /// Traffic received from publishers.
    public var frontendReceived: Traffic
    /// Traffic sent to publishers (subscription changes).
    public var frontendSent: Traffic
    /// Traffic received from subscribers (subscription changes).
    public var backendReceived: Traffic
    /// Traffic sent to subscribers.
    public var backendSent: Traffic

    init(counters: [UInt64]) {
        precondition(counters.count == 8)
        frontendReceived = Traffic(messages: counters[0], bytes: counters[1])
        frontendSent = Traffic(messages: counters[2], bytes: counters[3])
        backendReceived = Traffic(messages: counters[4], bytes: counters[5])
        backendSent = Traffic(messages: counters[6], bytes: counters[7])
    }
}
