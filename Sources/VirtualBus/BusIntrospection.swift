package import ZeroMQ

/// What the shutdown-correctness suite checks after a shutdown: which threads are still running
/// and whether the context is gone. Package-only: not part of the public API.
package struct BusIntrospection: Sendable {
    /// The proxy thread.
    package let proxyThread: SocketThread
    /// Every run-loop thread registered with the bus (live and cancelled-but-closing).
    package let runLoopThreads: [SocketThread]
    /// The bus's ZeroMQ context.
    package let context: ZMQContext
}

extension VirtualBus {
    /// A snapshot of the bus's threads and context, for the shutdown-correctness suite. Take it
    /// before shutdown: shutdown empties the registry.
    package var introspection: BusIntrospection {
        BusIntrospection(
            proxyThread: proxy.thread,
            runLoopThreads: registry.withLock { $0.runLoopThreads },
            context: context
        )
    }
}
