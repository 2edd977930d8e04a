import CZeroMQ

/// A fixed set of sockets polled for input.
///
/// The poller stores raw socket handles, so it must not outlive the sockets it was built from; its
/// owner (a run loop) creates the sockets first and drops the poller before closing them.
package struct ZMQPoller: ~Copyable {
    private let items: UnsafeMutablePointer<zmq_pollitem_t>
    private let capacity: Int
    private var count = 0

    package init(capacity: Int) {
        self.capacity = capacity
        items = .allocate(capacity: capacity)
    }

    deinit { items.deallocate() }

    /// Adds a socket; returns its index for ``isReadable(_:)``.
    package mutating func add(_ socket: borrowing ZMQSocket) throws(ZMQError) -> Int {
        precondition(count < capacity, "ZMQPoller is full")
        items[count] = zmq_pollitem_t(socket: try socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        count += 1
        return count - 1
    }

    /// Waits until at least one of the first `activeCount` sockets is readable (all sockets when `nil`),
    /// or `timeoutMilliseconds` passed (`-1`: no timeout). Returns the number of readable sockets.
    package func poll(activeCount: Int? = nil, timeoutMilliseconds: Int = -1) throws(ZMQError) -> Int {
        let active = activeCount.map { min($0, count) } ?? count
        for index in 0..<count { items[index].revents = 0 }
        return try LibZMQ.poll(items, count: active, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Whether the socket at `index` was readable in the last ``poll(activeCount:timeoutMilliseconds:)``.
    package func isReadable(_ index: Int) -> Bool {
        items[index].revents & Int16(ZMQ_POLLIN) != 0
    }
}
