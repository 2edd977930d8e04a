import ConcurrencyPrimitives
internal import Logging
internal import Metrics
internal import NIOCore
import Synchronization

/// The shared state of one client: the session state machine plus subscription, request and
/// waiter bookkeeping, behind one lock (`Locked`).
///
/// Discipline: state changes and packet encoding happen under the lock; everything with a side
/// effect (resuming waiters, pushing to subscription buffers, writing, closing) runs after it is
/// released. Writes are batched: encoded bytes collect in `pending` and one flush task per batch
/// runs on the channel's event loop.
final class ClientCore: Sendable {
    enum Completion {
        case publish(MQTTWaiter<MQTTPublishResult>)
        case codes(MQTTWaiter<[MQTTReasonCode]>)
    }

    typealias Machine = MQTTConnectionStateMachine<Completion>

    /// Side effects collected under the lock, run after it.
    enum Effect {
        case publishDone(MQTTWaiter<MQTTPublishResult>, Result<MQTTPublishResult, MQTTError>)
        case codesDone(MQTTWaiter<[MQTTReasonCode]>, Result<[MQTTReasonCode], MQTTError>)
        case deliver(MQTTSubscriptionBuffer, MQTTMessage)
        case response(MQTTWaiter<MQTTMessage>, MQTTMessage)
        case flush(any EventLoop)
        case close(any Channel)
        case resume(CheckedContinuation<Void, Never>)
        case wake(CheckedContinuation<Bool, Never>)
        case resumeConnect(CheckedContinuation<Void, any Error>, MQTTError?)
        case finish(MQTTSubscriptionBuffer, MQTTError?)
        case connectionEnded(MQTTWaiter<ConnectionEnd>, ConnectionEnd)
        case authenticate(MQTTAuthenticationChallenge)
        case event(MQTTClientEvent)
    }

    struct ConnectionEnd: Sendable {
        var wasConnected: Bool
        var error: MQTTError?
        /// The connection only discarded an earlier session: connect again at once.
        var wasSessionReset = false
    }

    typealias LocalSubscription = SubscriptionTable.Local

    /// The transport, with what belongs to the connection over it only.
    enum Link {
        /// No transport is open.
        case closed
        /// A transport is open: `end` learns how its connection ended; `established` once a
        /// CONNACK accepted it.
        case open(any Channel, end: MQTTWaiter<ConnectionEnd>, established: Bool)
    }

    struct State {
        var machine: Machine
        var encoder: MQTTPacketEncoder
        var pending = ByteBuffer()
        var pendingQoS0: [MQTTWaiter<MQTTPublishResult>] = []
        var flushScheduled = false
        var link = Link.closed
        var isShutdown = false
        var closeError: MQTTError?
        /// Some connection of this client reached CONNACK (see `MQTTError.versionNotAnswered`).
        var everConnected = false
        /// When the last established connection was lost (reported with the next CONNACK).
        var disconnectedAt: ContinuousClock.Instant?
        /// Session Present from the last CONNACK.
        var sessionPresent = false
        var connectWaiters: [CheckedContinuation<Void, any Error>] = []
        var sleeper: CheckedContinuation<Void, Never>?
        var nextID: UInt64 = 1
        var subscriptions = SubscriptionTable()
        var spaceWaiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var requests = RequestTable()
        /// QoS 1/2 messages that matched no subscription, held after a resumed session's CONNACK
        /// until this instant (see `holdUnrouted`).
        var unrouted: [Unrouted] = []
        var holdUnroutedUntil: ContinuousClock.Instant?

        /// The open transport, if there is one.
        var channel: (any Channel)? {
            if case .open(let channel, _, _) = link { channel } else { nil }
        }
    }

    let configuration: MQTTClientConfiguration
    let logger: Logger
    let metrics: ClientMetrics
    let state: Locked<State>
    let events = ClientEventStreams()

    init(
        configuration: MQTTClientConfiguration, logger: Logger = Logger(label: "VirtualBusMQTT"),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = ClientMetrics(clientID: configuration.clientID, factory: metricsFactory)
        var mc = Machine.Configuration()
        mc.version = configuration.version
        mc.clientID = configuration.clientID
        mc.cleanStart = configuration.cleanStart
        mc.sessionExpiry = configuration.sessionExpiry
        mc.keepAlive = configuration.keepAlive
        mc.username = configuration.credentials?.username
        mc.password = configuration.credentials?.password
        mc.will = configuration.will
        mc.receiveMaximum = configuration.receiveMaximum
        mc.maximumPacketSize = configuration.maximumPacketSize
        mc.maxInFlight = configuration.maxInFlight
        mc.queueCapacity = configuration.publishQueueCapacity
        mc.queuePolicy = configuration.publishQueuePolicy
        mc.keepMessagesWhenDisconnected = configuration.reconnect != nil
        mc.resumeSessionOnReconnect = configuration.reconnect?.resumesSession ?? false
        mc.resumableSessionExpiry = configuration.reconnect?.resumableSessionExpiry ?? 0
        mc.authenticationMethod = configuration.authentication?.method
        mc.authenticationData = configuration.authentication?.initialData
        self.state = Locked(
            State(machine: Machine(configuration: mc), encoder: MQTTPacketEncoder(version: configuration.version)))
    }

    /// Runs `body` under the lock, turns the machine's actions into effects, then runs them.
    func perform(_ body: (inout State) -> [Machine.Action]) {
        var effects: [Effect] = []
        state.withLock { s in
            let actions = body(&s)
            apply(actions, to: &s, effects: &effects)
        }
        run(effects)
    }

    func apply(_ actions: [Machine.Action], to s: inout State, effects: inout [Effect]) {
        for action in actions {
            switch action {
            case .send(let packet):
                encode(packet, &s, &effects)
            case .sendQoS0(let packet, let completion):
                guard case .publish(let waiter) = completion else { continue }
                if s.channel == nil {
                    effects.append(.publishDone(waiter, .failure(MQTTError(.sessionLost, "not connected"))))
                } else {
                    encode(packet, &s, &effects)
                    s.pendingQoS0.append(waiter)
                }
            case .publishCompleted(let completion, let result):
                if case .publish(let w) = completion { effects.append(.publishDone(w, result)) }
            case .subscribeCompleted(let completion, let result), .unsubscribeCompleted(let completion, let result):
                if case .codes(let w) = completion { effects.append(.codesDone(w, result)) }
            case .reauthenticated(let completion, let result):
                if case .codes(let w) = completion { effects.append(.codesDone(w, result.map { [$0] })) }
            case .authenticate(let challenge):
                effects.append(.authenticate(challenge))
            case .queueOverflowing(let dropped):
                effects.append(
                    .event(.publishQueueOverflow(capacity: configuration.publishQueueCapacity, dropped: dropped)))
            case .deliver(let message, let inbound):
                route(message, inbound: inbound, &s, &effects)
            case .connected(let sessionPresent, let properties, let resent):
                connected(sessionPresent: sessionPresent, properties: properties, &s, &effects)
                effects.append(
                    .event(
                        .connected(
                            sessionPresent: sessionPresent, downtime: s.disconnectedAt.map { .now - $0 }, resent: resent
                        )))
                s.disconnectedAt = nil
            case .close(let error):
                if s.closeError == nil { s.closeError = error }
                if let error, let reason = error.reasonCode, s.machine.isV5, s.machine.state != .closed,
                    error.code == .protocolViolation || error.code == .packetTooLarge || error.code == .keepAliveTimeout
                {
                    // [MQTT-4.13.1-1]: tell the broker why before closing.
                    encode(.disconnect(ReasonPacket(reasonCode: reason)), &s, &effects)
                }
                if let channel = s.channel { effects.append(.close(channel)) }
            }
        }
        if !s.spaceWaiters.isEmpty && (s.machine.queueHasSpace || s.isShutdown) {
            for (_, c) in s.spaceWaiters { effects.append(.wake(c)) }
            s.spaceWaiters = [:]
        }
    }

    private func encode(_ packet: MQTTPacket, _ s: inout State, _ effects: inout [Effect]) {
        guard let channel = s.channel else { return }
        do {
            try s.encoder.encode(packet, into: &s.pending)
        } catch {
            logger.error("cannot encode \(packet.name): \(error)")
            if s.closeError == nil { s.closeError = error }
            effects.append(.close(channel))
            return
        }
        if !s.flushScheduled {
            s.flushScheduled = true
            effects.append(.flush(channel.eventLoop))
        }
    }

    func run(_ effects: [Effect]) {
        // Consecutive deliveries to one subscription are pushed as one batch (one lock, one wake-up).
        var batchBuffer: MQTTSubscriptionBuffer?
        var batch: [MQTTMessage] = []
        func flushBatch() {
            if let b = batchBuffer, !batch.isEmpty { b.push(contentsOf: batch) }
            batch.removeAll(keepingCapacity: true)
            batchBuffer = nil
        }
        for effect in effects {
            if case .deliver(let buffer, let message) = effect {
                if batchBuffer !== buffer { flushBatch() }
                batchBuffer = buffer
                batch.append(message)
                continue
            }
            switch effect {
            case .publishDone(let w, let r): w.complete(r)
            case .codesDone(let w, let r): w.complete(r)
            case .deliver: break  // batched above
            case .response(let w, let m): w.complete(.success(m))
            case .flush(let loop): loop.execute { self.flushTask(on: loop) }
            case .close(let channel):
                // Queued after any flush task, so a final DISCONNECT goes out first.
                channel.eventLoop.execute {
                    self.flush()
                    channel.close(promise: nil)
                }
            case .resume(let c): c.resume()
            case .wake(let c): c.resume(returning: true)
            case .resumeConnect(let c, let error):
                if let error { c.resume(throwing: error) } else { c.resume() }
            case .finish(let buffer, let error):
                flushBatch()
                buffer.finish(error)
            case .connectionEnded(let w, let end): w.complete(.success(end))
            case .authenticate(let challenge): answer(challenge)
            case .event(let event): events.emit(event)
            }
        }
        flushBatch()
    }

    /// The scheduled write task: writes, then runs again at once (from the loop, without waking
    /// it) while more was encoded meanwhile. `flushScheduled` stays set until nothing is left, so
    /// a fast producer schedules — and wakes the event loop — once per burst, not once per write.
    func flushTask(on loop: any EventLoop) {
        flush()
        let again = state.withLock { s in
            if s.pending.readableBytes > 0 && s.channel != nil { return true }
            s.flushScheduled = false
            return false
        }
        if again { loop.execute { self.flushTask(on: loop) } }
    }

    /// Writes everything encoded so far in one write; runs on the event loop.
    func flush() {
        let (bytes, waiters, channel, depth, inFlight, unacknowledged) = state.withLock { s in
            s.machine.didSend(now: .now)
            let bytes = s.pending
            // The next batch starts with room for one like this (NIO owns these bytes until written).
            s.pending = ByteBuffer()
            s.pending.reserveCapacity(min(bytes.readableBytes, 1 << 20))
            let waiters = s.pendingQoS0
            s.pendingQoS0 = []
            return (
                bytes, waiters, s.channel, s.machine.queueDepth, s.machine.inFlightCount, s.machine.inboundPending.count
            )
        }
        metrics.queueDepth.record(depth)
        metrics.inFlight.record(inFlight)
        metrics.inboundUnacknowledged.record(unacknowledged)
        guard let channel, bytes.readableBytes > 0 else {
            for w in waiters {
                w.complete(.failure(MQTTError(.sessionLost, "connection closed before the publish was written")))
            }
            return
        }
        if waiters.isEmpty {
            channel.writeAndFlush(bytes, promise: nil)
        } else {
            channel.writeAndFlush(bytes).whenComplete { result in
                let outcome: Result<MQTTPublishResult, MQTTError> =
                    switch result {
                    case .success: .success(MQTTPublishResult(qos: .atMostOnce))
                    case .failure: .failure(MQTTError(.sessionLost, "connection closed before the publish was written"))
                    }
                for w in waiters { w.complete(outcome) }
            }
        }
    }
}
