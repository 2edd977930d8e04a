import Synchronization
import ZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A publisher that keeps the last message of every topic it published and sends it again to each
/// new subscription whose prefix covers the topic: a late subscriber gets the latest value per topic
/// (how the MQTT bridge serves retained messages on the bus).
///
/// An empty payload deletes the topic's value (and is published, so current subscribers see the
/// delete). Replays go to the bus like any message, so a subscriber that already had the value and
/// shares the new subscription's prefix sees it again: values are states, not events.
///
/// A thread of the cache's own owns its socket: it hears every new subscription from the proxy
/// (the proxy passes each one on, not only the first per prefix) and replays at once. Updates reach
/// it in order through its control socket, so a replay never overtakes a newer value.
/// ``VirtualBus/shutdown(deadline:)`` stops it with the publishers.
public final class BusLastValueCache: Sendable {
    /// What the cache holds and did.
    public struct Statistics: Sendable, Hashable {
        /// Topics with a value.
        public var topics = 0
        /// Values published (updates and deletes).
        public var published = 0
        /// Values sent again to new subscriptions.
        public var replayed = 0
        /// New subscriptions heard from the proxy (the bus's internal ones aside).
        public var subscriptionsSeen = 0
        /// Values published but not kept because the cache was full (``capacity`` topics).
        public var notKeptFull = 0
    }

    /// The most topics kept; a value for a new topic beyond it is published but not kept (counted).
    public let capacity: Int
    private let worker: WorkerThread
    private let counters: Counters
    private let registration: BusRegistration

    /// What the cache's thread tells an observer about each message it sends (an update, a delete
    /// or a replay), on that thread.
    public enum Sending: Sendable {
        /// The message is about to be sent: a subscriber may receive it from now on.
        case willSend(topic: String, payload: [UInt8])
        /// A message announced by ``willSend(topic:payload:)`` was not sent after all (a replay that
        /// waited five seconds for a full proxy is dropped): no subscriber will receive it.
        case notSent(topic: String, payload: [UInt8])
    }

    /// Told about every message the cache sends, on the cache's thread (so it must be quick).
    public typealias Observer = @Sendable (Sending) -> Void

    /// The counters, shared by the cache and its thread.
    final class Counters: Sendable {
        let state = Mutex(Statistics())
    }

    init(worker: WorkerThread, counters: Counters, capacity: Int, registration: BusRegistration) {
        self.worker = worker
        self.counters = counters
        self.capacity = capacity
        self.registration = registration
    }

    deinit { close() }

    /// This cache's counters.
    public var statistics: Statistics { counters.state.withLock { $0 } }

    /// Publishes `payload` on `topic` and keeps it as the topic's value (an empty payload deletes
    /// the value).
    ///
    /// - Throws: `invalidTopic`; `highWaterMark` when the cache's thread does not take the update
    ///   within five seconds; `shutDown` after ``close()`` or the bus's shutdown.
    public func publish(topic: String, payload: [UInt8]) throws(BusError) {
        try BusTopic.validate(topic: topic)
        try worker.send([Array(topic.utf8), payload], timeout: .seconds(5))
    }

    /// Stops the cache's thread and forgets the values. Idempotent.
    public func close() {
        worker.stop()
        registration.unregister()
    }

    /// The thread's body: apply updates from `control`, replay on new subscriptions.
    static func serve(
        control: borrowing ZMQSocket, socket: borrowing ZMQSocket, capacity: Int, counters: Counters,
        observer: Observer?
    ) throws(ZMQError) {
        var values: [[UInt8]: [UInt8]] = [:]
        var poller = ZMQPoller(capacity: 2)
        let controlIndex = try poller.add(control)
        let socketIndex = try poller.add(socket)
        /// Sends one value, telling the observer first: a subscriber may have it before `send` returns.
        func send(topic: [UInt8], payload: [UInt8]) throws(ZMQError) {
            let name = observer.map { _ in String(decoding: topic, as: UTF8.self) }
            if let observer, let name { observer(.willSend(topic: name, payload: payload)) }
            let sent = try socket.send(frames: [topic, payload])
            if !sent, let observer, let name { observer(.notSent(topic: name, payload: payload)) }
        }
        while true {
            _ = try poller.poll()
            // Subscriptions first: one that arrived with an update is answered with the values it
            // was made before.
            if poller.isReadable(socketIndex) {
                while let notice = try socket.receiveFrames(dontWait: true) {
                    // 1 + prefix subscribes; 0 + prefix unsubscribes; NUL-led prefixes are the bus's own.
                    guard let frame = notice.first, frame.first == 1, frame.dropFirst().first != 0 else { continue }
                    let prefix = frame.dropFirst()
                    let covered = values.filter { $0.key.starts(with: prefix) }
                    counters.state.withLock {
                        $0.subscriptionsSeen += 1
                        $0.replayed += covered.count
                    }
                    for (topic, payload) in covered { try send(topic: topic, payload: payload) }
                }
            }
            if poller.isReadable(controlIndex) {
                while let frames = try control.receiveFrames(dontWait: true) {
                    guard frames.count == 2 else { return }  // the one-frame stop command
                    let (topic, payload) = (frames[0], frames[1])
                    var kept = true
                    if payload.isEmpty {
                        values[topic] = nil
                    } else if values[topic] != nil || values.count < capacity {
                        values[topic] = payload
                    } else {
                        kept = false
                    }
                    // Counted before it is sent, so a subscriber that has it sees it counted.
                    counters.state.withLock {
                        $0.published += 1
                        $0.topics = values.count
                        if !kept { $0.notKeptFull += 1 }
                    }
                    try send(topic: topic, payload: payload)
                }
            }
        }
    }
}

extension VirtualBus {
    /// Creates a last-value cache publishing on this bus (see ``BusLastValueCache``).
    ///
    /// - Parameters:
    ///   - capacity: the most topics it keeps a value for.
    ///   - observer: told about every message the cache sends, before it is sent (how a bridge
    ///     recognises its own messages on its subscriptions, replays included).
    public func makeLastValueCache(capacity: Int = 100_000, observer: BusLastValueCache.Observer? = nil)
        throws(BusError) -> BusLastValueCache
    {
        guard let frontend = names.frontendConnect else {
            throw BusError(
                .invalidConfiguration, "this bus was connected without a frontend endpoint: it cannot publish")
        }
        let counters = BusLastValueCache.Counters()
        let configuration = self.configuration
        let context = self.context
        let (id, worker) = try connecting { (_: UInt64) throws(BusError) in
            let id = registry.withLock { $0.makeID() }
            return try WorkerThread.start(
                name: "vbus-lvc-\(id)", context: context, controlEndpoint: names.workerControl(id)
            ) { control, ready throws(ZMQError) in
                var socket = try ZMQSocket(context, type: .xpub)
                try socket.setSendHighWaterMark(configuration.highWaterMark)
                try socket.setNoDrop(true)
                // Hear every subscription the proxy passes on, also repeats of a known prefix.
                try socket.setVerbose(true)
                // Bounded: a replay waits for a full proxy at most this long, then is dropped.
                try socket.setSendTimeout(milliseconds: 5_000)
                try socket.setLinger(milliseconds: configuration.lingerMilliseconds)
                try socket.setReceiveTimeout(milliseconds: Int32(clamping: configuration.subscribeTimeout.milliseconds))
                try socket.connect(frontend)
                // Like a publisher: ready once the proxy's subscribe-all (0x01, no prefix) arrived.
                while true {
                    guard let frames = try socket.receiveFrames() else {
                        throw ZMQError(code: EAGAIN, call: "zmq_recv")
                    }
                    if frames == [[1]] { break }
                }
                ready()
                try BusLastValueCache.serve(
                    control: control, socket: socket, capacity: capacity, counters: counters, observer: observer)
                socket.close(lingerMilliseconds: configuration.lingerMilliseconds)
            }
        }
        guard registry.withLock({ $0.add(worker, id: id) }) else {
            worker.stop()
            throw BusError.shutDown
        }
        return BusLastValueCache(
            worker: worker, counters: counters, capacity: capacity,
            registration: BusRegistration(bus: self, id: id, kind: .worker))
    }
}
