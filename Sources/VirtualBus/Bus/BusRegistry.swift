import ConcurrencyPrimitives
import Synchronization

/// Everything a bus must stop at shutdown, and where in its life the bus is: a value-type state
/// machine kept behind the bus's lock.
struct BusRegistry {
    enum Phase {
        case running
        case shuttingDown(Task<ShutdownReport, Never>)
        case shutDown(ShutdownReport)
    }

    /// What the shutdown sequence takes over when it starts.
    struct Members {
        var runLoops: [SubscriptionRunLoop]
        var publishers: [PublisherSocket]
        var consumerTasks: [Task<Void, Never>]
        /// Socket-owning helper threads (last-value caches), stopped with the publishers.
        var workers: [WorkerThread]
        /// Fires once no member is still connecting to the proxy.
        var connectionsSettled: OneShotEvent
    }

    private(set) var phase = Phase.running
    private var nextID: UInt64 = 0
    private var runLoops: [UInt64: SubscriptionRunLoop] = [:]
    private var publishers: [UInt64: PublisherSocket] = [:]
    private var consumerTasks: [UInt64: Task<Void, Never>] = [:]
    private var workers: [UInt64: WorkerThread] = [:]
    /// Run loops of cancelled subscriptions whose threads may still be closing their sockets.
    /// Shutdown waits for them too; ones that have exited are pruned as the registry changes.
    private var retiredRunLoops: [SubscriptionRunLoop] = []

    /// Subscriptions and publishers whose sockets are still connecting to the proxy. Shutdown waits
    /// for them before it closes the proxy: an inproc connect to an endpoint that is no longer bound
    /// stays pending, and `zmq_ctx_term` then waits for it forever (found by the shutdown suite).
    private var connecting = 0
    /// Fires when the last connection in progress finishes after shutdown began.
    let connectionsSettled = OneShotEvent()

    /// Starts a member that connects to the proxy: a fresh id, counted until ``endConnecting()``.
    /// Throws once shutdown has begun.
    mutating func beginConnecting() throws(BusError) -> UInt64 {
        guard isRunning else { throw BusError.shutDown }
        connecting += 1
        return makeID()
    }

    /// Ends a connection in progress (whether it succeeded or not).
    mutating func endConnecting() {
        connecting -= 1
        if connecting == 0 && !isRunning { connectionsSettled.fire() }
    }

    var isRunning: Bool {
        if case .running = phase { return true }
        return false
    }

    /// A fresh identifier (subscription ids double as handshake payloads).
    mutating func makeID() -> UInt64 {
        nextID += 1
        return nextID
    }

    /// Adds a run loop; `false` once shutdown has begun (the caller must stop it itself).
    mutating func add(_ runLoop: SubscriptionRunLoop) -> Bool {
        guard isRunning else { return false }
        retiredRunLoops.removeAll { $0.thread.exited.hasFired }
        runLoops[runLoop.id] = runLoop
        return true
    }

    mutating func add(_ publisher: PublisherSocket, id: UInt64) -> Bool {
        guard isRunning else { return false }
        publishers[id] = publisher
        return true
    }

    mutating func add(_ worker: WorkerThread, id: UInt64) -> Bool {
        guard isRunning else { return false }
        workers[id] = worker
        return true
    }

    mutating func add(_ task: Task<Void, Never>, id: UInt64) -> Bool {
        guard isRunning else { return false }
        consumerTasks[id] = task
        return true
    }

    /// Moves a cancelled subscription's run loop to the retired list.
    mutating func retireRunLoop(_ id: UInt64) {
        if let runLoop = runLoops.removeValue(forKey: id) { retiredRunLoops.append(runLoop) }
    }
    mutating func removePublisher(_ id: UInt64) { publishers.removeValue(forKey: id) }
    mutating func removeConsumerTask(_ id: UInt64) { consumerTasks.removeValue(forKey: id) }
    mutating func removeWorker(_ id: UInt64) { workers.removeValue(forKey: id) }

    var subscriptionCount: Int { runLoops.count }

    /// Threads of every registered run loop, live and retired.
    var runLoopThreads: [DedicatedThread] { runLoops.values.map(\.thread) + retiredRunLoops.map(\.thread) }

    enum ShutdownAction {
        /// A sequence is running (possibly just started by this call): await it.
        case await(Task<ShutdownReport, Never>)
        /// Already done.
        case done(ShutdownReport)
    }

    /// The first call hands the members to `makeSequence` and stores the task it returns; the bus
    /// stops accepting new members from then on. Later calls get the same task or its report.
    mutating func beginShutdown(_ makeSequence: (Members) -> Task<ShutdownReport, Never>) -> ShutdownAction {
        switch phase {
        case .running:
            let task = makeSequence(takeMembers())
            phase = .shuttingDown(task)
            if connecting == 0 { connectionsSettled.fire() }
            return .await(task)
        case .shuttingDown(let task):
            return .await(task)
        case .shutDown(let report):
            return .done(report)
        }
    }

    /// Takes every member out of the registry (for a shutdown that runs right here, as in `deinit`).
    mutating func takeMembers() -> Members {
        if connecting == 0 { connectionsSettled.fire() }
        defer {
            runLoops = [:]
            retiredRunLoops = []
            publishers = [:]
            consumerTasks = [:]
            workers = [:]
        }
        return Members(
            runLoops: runLoops.keys.sorted().map { runLoops[$0]! } + retiredRunLoops,
            publishers: Array(publishers.values),
            consumerTasks: Array(consumerTasks.values),
            workers: Array(workers.values),
            connectionsSettled: connectionsSettled
        )
    }

    mutating func shutdownFinished(_ report: ShutdownReport) { phase = .shutDown(report) }
}

/// Lets a publisher or subscription remove itself from its bus's registry when it goes away,
/// without keeping the bus alive.
final class BusRegistration: Sendable {
    private weak let bus: VirtualBus?
    let id: UInt64
    private let kind: Kind

    enum Kind { case publisher, subscription, consumerTask, worker }

    init(bus: VirtualBus, id: UInt64, kind: Kind) {
        self.bus = bus
        self.id = id
        self.kind = kind
    }

    func unregister() {
        bus?.unregister(id: id, kind: kind)
    }
}
