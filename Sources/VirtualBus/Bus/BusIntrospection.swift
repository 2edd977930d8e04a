package import ConcurrencyPrimitives
package import ZeroMQ

/// What the shutdown-correctness suite checks after a shutdown: which threads are still running
/// and whether the context is gone. Package-only: not part of the public API.
package struct BusIntrospection: Sendable {
    /// The proxy thread (only a local bus has one; a connected bus traps here).
    package var proxyThread: DedicatedThread {
        guard let ownProxyThread else { preconditionFailure("a bus connected to a remote one has no proxy thread") }
        return ownProxyThread
    }
    /// The proxy thread, or `nil` for a connected bus.
    package let ownProxyThread: DedicatedThread?
    /// Helper threads (remote control, peer monitor, ZAP handler), when configured.
    package let serverThreads: [DedicatedThread]
    /// Every run-loop thread registered with the bus (live and cancelled-but-closing).
    package let runLoopThreads: [DedicatedThread]
    /// The bus's ZeroMQ context.
    package let context: ZMQContext
}

extension VirtualBus {
    /// A snapshot of the bus's threads and context, for the shutdown-correctness suite. Take it
    /// before shutdown: shutdown empties the registry.
    package var introspection: BusIntrospection {
        BusIntrospection(
            ownProxyThread: proxy?.thread,
            serverThreads: workers.map(\.thread),
            runLoopThreads: registry.withLock { $0.runLoopThreads },
            context: context
        )
    }
}
