import ConcurrencyPrimitives
import Synchronization
import ZeroMQ

/// One subscriber's run loop: a dedicated thread that owns the SUB socket and a control socket.
///
/// The thread polls both sockets, reads messages in batches, validates them and hands each batch to
/// ``SubscriptionStorage``. Commands (stop, resume after backpressure) arrive on an `inproc://` PAIR
/// socket, so the thread never has to be interrupted from outside and always closes its own socket:
/// the precondition for terminating the context without a hang.
final class SubscriptionRunLoop: Sendable {
    private enum Command: UInt8 {
        case stop = 0x53  // "S"
        case resumeReading = 0x52  // "R"
    }

    let id: UInt64
    let storage: SubscriptionStorage
    /// Fires once the run loop has seen its own handshake probe through the proxy.
    let handshakeDone: OneShotEvent
    let thread: DedicatedThread
    /// The other end of the run loop's control socket, shared by every thread that commands it.
    private let commander: Mutex<ZMQSocket>

    private init(
        id: UInt64, storage: SubscriptionStorage, handshakeDone: OneShotEvent, thread: DedicatedThread,
        commander: consuming sending ZMQSocket
    ) {
        self.id = id
        self.storage = storage
        self.handshakeDone = handshakeDone
        self.thread = thread
        self.commander = Mutex(commander)
    }

    /// Starts the thread and waits until its sockets are connected.
    static func start(
        id: UInt64,
        context: ZMQContext,
        backend: String,
        controlEndpoint: String,
        prefixes: [[UInt8]],
        storage: SubscriptionStorage,
        configuration: BusConfiguration
    ) async throws(BusError) -> SubscriptionRunLoop {
        let started = OneShotEvent()
        let startError = Mutex<BusError?>(nil)
        let handshakeDone = OneShotEvent()
        let body = RunLoopBody(
            id: id, context: context, backend: backend, controlEndpoint: controlEndpoint,
            prefixes: prefixes, storage: storage, handshakeDone: handshakeDone, configuration: configuration
        )
        let thread = DedicatedThread.start(name: "vbus-sub-\(id)") {
            body.run { error in
                startError.withLock { $0 = error }
                started.fire()
            }
        }
        await started.wait()
        if let error = startError.withLock({ $0 }) {
            _ = await thread.waitForExit(until: .now + .seconds(1))
            throw error
        }
        let commander = try ZMQSocket.commander(context: context, controlEndpoint: controlEndpoint)
        let runLoop = SubscriptionRunLoop(
            id: id, storage: storage, handshakeDone: handshakeDone, thread: thread, commander: commander)
        storage.setWakeHandler { [weak runLoop] in runLoop?.resumeReading() }
        return runLoop
    }

    /// Asks the thread to close its sockets and exit; closes the command side. Idempotent.
    func stop() {
        commander.withLock { socket in
            Self.send(.stop, on: socket)
            socket.close(lingerMilliseconds: 0)
        }
    }

    /// Tells a run loop paused by backpressure that the consumer has made room.
    private func resumeReading() {
        commander.withLock { Self.send(.resumeReading, on: $0) }
    }

    private static func send(_ command: Command, on socket: borrowing ZMQSocket) {
        guard !socket.isClosed else { return }
        // Non-blocking: a full command queue already holds a pending wake-up or stop.
        _ = try? socket.send(frames: [[command.rawValue]], dontWait: true)
    }
}

/// What the run loop thread executes; holds no reference to the bus.
private struct RunLoopBody: Sendable {
    let id: UInt64
    let context: ZMQContext
    let backend: String
    let controlEndpoint: String
    let prefixes: [[UInt8]]
    let storage: SubscriptionStorage
    let handshakeDone: OneShotEvent
    let configuration: BusConfiguration

    func run(started: (BusError?) -> Void) {
        do throws(ZMQError) {
            var control = try ZMQSocket(context, type: .pair)
            var subscriber = try ZMQSocket(context, type: .sub)
            do throws(ZMQError) {
                try control.bind(controlEndpoint)
                try subscriber.setReceiveHighWaterMark(configuration.highWaterMark)
                try subscriber.setMaximumMessageSize(
                    Int64(configuration.maximumMessageSize) + Int64(BusTopic.maximumLength))
                for prefix in prefixes { try subscriber.subscribe(prefix) }
                // Subscribed last: when our probe comes back, every prefix above is active in the proxy.
                try subscriber.subscribe(BusTopic.handshakeTopic)
                try subscriber.applyClientSecurity(configuration, endpoint: backend)
                try subscriber.connect(backend)
            } catch {
                started(BusError(transport: error))
                return
            }
            started(nil)
            loop(control: control, subscriber: subscriber)
            subscriber.close(lingerMilliseconds: configuration.lingerMilliseconds)
            control.close(lingerMilliseconds: 0)
        } catch {
            started(BusError(transport: error))
        }
    }

    private func loop(control: borrowing ZMQSocket, subscriber: borrowing ZMQSocket) {
        var poller = ZMQPoller(capacity: 2)
        guard let controlIndex = try? poller.add(control), let subscriberIndex = try? poller.add(subscriber) else {
            return
        }
        var reader = MessageReader(
            subscriptionID: id, maximumPayload: configuration.maximumMessageSize, handshakeDone: handshakeDone)
        // What the buffer can take, never a whole batch: the first read after the handshake can find
        // a burst queued, and a backpressure buffer must not hold more than its capacity.
        var room = storage.room
        var readingPaused = false
        while true {
            do throws(ZMQError) {
                // While paused for backpressure only the control socket is polled (it comes first).
                _ = try poller.poll(activeCount: readingPaused ? 1 : 2)
                if poller.isReadable(controlIndex) {
                    for command in try drainCommands(control) {
                        if command == 0x53 { return }
                        room = storage.room
                        readingPaused = room <= 0
                    }
                }
                guard !readingPaused, poller.isReadable(subscriberIndex) else { continue }
                // Read until the socket is empty or the consumer has no more room.
                while room > 0 {
                    let limit = min(room, configuration.deliveryBatchSize)
                    let (batch, rejected) = try reader.readBatch(from: subscriber, limit: limit)
                    if batch.isEmpty && rejected.dropped == 0 { break }
                    room = storage.deliver(batch, rejected: rejected)
                    if batch.count + rejected.dropped < limit { break }
                }
                if room <= 0 { readingPaused = true }
            } catch {
                // ETERM (the context was terminated under us) or a broken socket: leave and close.
                return
            }
        }
    }

    private func drainCommands(_ control: borrowing ZMQSocket) throws(ZMQError) -> [UInt8] {
        var commands: [UInt8] = []
        while let frames = try control.receiveFrames(dontWait: true) {
            commands.append(contentsOf: frames.compactMap(\.first))
        }
        return commands
    }
}
