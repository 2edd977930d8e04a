import ConcurrencyPrimitives
internal import NIOCore
internal import NIOPosix

extension ClientCore {
    /// A new transport is open: remember it and send CONNECT.
    func channelActive(_ channel: any Channel, end: MQTTWaiter<ConnectionEnd>) {
        perform { s in
            s.link = .open(channel, end: end, established: false)
            s.closeError = nil
            s.encoder = MQTTPacketEncoder(version: configuration.version)
            if s.isShutdown { return [.close(nil)] }
            return s.machine.connect(now: .now)
        }
    }

    /// Decoded packets from one read, handled under one lock acquisition.
    ///
    /// Each packet's actions are applied before the next packet is handled: routing decides
    /// whether an inbound QoS 1/2 publish is acknowledged now, and a retransmission later in the
    /// same read must see that decision.
    func received(_ packets: [MQTTPacket]) {
        let now = ContinuousClock.now
        var effects: [Effect] = []
        state.withLock { s in
            for packet in packets {
                let actions = s.machine.received(packet, now: now)
                apply(actions, to: &s, effects: &effects)
                if case .close = actions.last { break }
            }
        }
        run(effects)
    }

    /// The decoder or the transport failed: close with `error`.
    func fail(_ error: MQTTError) {
        logger.warning("closing the MQTT connection: \(error)")
        perform { _ in [.close(error)] }
    }

    func tick() {
        let now = ContinuousClock.now
        perform { s in
            releaseUnrouted(now: now, &s)
                + s.machine.tick(
                    now: now, connectTimeout: configuration.connectTimeout, pingTimeout: configuration.pingTimeout)
        }
    }

    /// The transport closed: fail or keep session state, end the connection.
    func channelInactive() {
        var effects: [Effect] = []
        state.withLock { s in
            guard case .open(_, let end, let established) = s.link else { return }
            s.link = .closed
            // A connection that only reset the session got its CONNACK, though it never got to `.connected`.
            let reset = s.machine.connectionIsSessionReset && s.machine.sessionResetDone
            let unanswered = s.machine.state.isConnecting && !s.everConnected && configuration.version == .v5 && !reset
            let error =
                s.closeError
                ?? (s.isShutdown
                    ? nil
                    : unanswered
                        ? MQTTError.versionNotAnswered(configuration.version)
                        : MQTTError(.connectionFailed, "the connection was closed"))
            if s.closeError == nil && unanswered && !s.isShutdown { s.closeError = error }
            var actions = s.machine.connectionClosed(error: error)
            let orphans = s.pendingQoS0
            s.pendingQoS0 = []
            s.pending.clear()
            for w in orphans {
                actions.append(
                    .publishCompleted(
                        .publish(w),
                        .failure(MQTTError(.sessionLost, "connection closed before the publish was written"))))
            }
            if established && s.disconnectedAt == nil { s.disconnectedAt = .now }
            // Held messages belong to this connection; the broker resends them on the next one.
            s.unrouted = []
            s.holdUnroutedUntil = nil
            apply(actions, to: &s, effects: &effects)
            // Told last, after what the close failed or kept: the reconnect loop acts on it.
            let resetOnly = s.machine.connectionIsSessionReset && s.machine.sessionResetDone && s.closeError == nil
            let info = ConnectionEnd(wasConnected: established, error: s.closeError, wasSessionReset: resetOnly)
            effects.append(.connectionEnded(end, info))
        }
        run(effects)
    }

    func connected(sessionPresent: Bool, properties: MQTTProperties, _ s: inout State, _ effects: inout [Effect]) {
        if case .open(let channel, let end, _) = s.link { s.link = .open(channel, end: end, established: true) }
        s.everConnected = true
        s.sessionPresent = sessionPresent
        startUnroutedGrace(sessionPresent: sessionPresent, &s)
        for c in s.connectWaiters { effects.append(.resumeConnect(c, nil)) }
        s.connectWaiters = []
        logger.debug("MQTT connected", metadata: ["session_present": "\(sessionPresent)"])
        // Without a session the broker has none of our subscriptions: make them all again. With
        // one, only filters registered while offline (or whose SUBSCRIBE was cut off) are missing.
        let all = !sessionPresent || s.machine.startedClean
        let subs = s.subscriptions.resubscriptions(all: all)
        for chunk in stride(from: 0, to: subs.count, by: 64) {
            let part = Array(subs[chunk..<min(chunk + 64, subs.count)])
            // Callers waiting on an earlier SUBSCRIBE for these filters get this one's outcome.
            let earlier = s.subscriptions.pendingWaiters(for: part.map(\.filter))
            let waiter = MQTTWaiter<[MQTTReasonCode]> { result in for w in earlier { w.complete(result) } }
            s.subscriptions.markPending(part.map(\.filter), waiter)
            apply(s.machine.subscribe(part, completion: .codes(waiter)), to: &s, effects: &effects)
        }
    }

    /// Waits until CONNACK, or fails when the client gives up connecting.
    func waitUntilConnected() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let immediate: Result<Void, MQTTError>? = state.withLock { s in
                if s.isShutdown { return .failure(s.closeError ?? MQTTError(.shutdown, "the client is shut down")) }
                if s.machine.state.isConnected { return .success(()) }
                s.connectWaiters.append(c)
                return nil
            }
            if let immediate { c.resume(with: immediate.mapError { $0 as any Error }) }
        }
    }

    /// Fails connect waiters after a failed attempt when the client will not retry.
    func failConnectWaiters(_ error: MQTTError) {
        let waiters = state.withLock { s in
            defer { s.connectWaiters = [] }
            return s.connectWaiters
        }
        for c in waiters { c.resume(throwing: error) }
    }

    var isShutdown: Bool { state.withLock { $0.isShutdown } }

    /// Ends the session for good; idempotent and callable from anywhere.
    func shutdown(error: MQTTError? = nil) {
        var effects: [Effect] = []
        state.withLock { s in
            guard !s.isShutdown else { return }
            s.isShutdown = true
            if s.closeError == nil { s.closeError = error }
            apply(s.machine.shutdown(), to: &s, effects: &effects)
            let (locals, pending) = s.subscriptions.removeAll()
            for local in locals { effects.append(.finish(local.buffer, error)) }
            let shutdownError = error ?? MQTTError(.shutdown, "the client was shut down")
            for waiter in pending { effects.append(.codesDone(waiter, .failure(shutdownError))) }
            for c in s.connectWaiters { effects.append(.resumeConnect(c, shutdownError)) }
            s.connectWaiters = []
            if let sleeper = s.sleeper { effects.append(.resume(sleeper)) }
            s.sleeper = nil
        }
        let requests = state.withLock { s in s.requests.removeAll() }
        for w in requests { w.complete(.failure(MQTTError(.shutdown, "the client was shut down"))) }
        run(effects)
        events.finish()
    }

    /// Sleeps for `duration` unless the client shuts down first (reconnect backoff).
    func sleep(for duration: Duration) async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s in
                if s.isShutdown { return true }
                s.sleeper = c
                return false
            }
            if now {
                c.resume()
                return
            }
            loop.scheduleTask(
                in: .nanoseconds(
                    Int64(duration.components.seconds) * 1_000_000_000
                        + duration.components.attoseconds / 1_000_000_000)
            ) {
                let c = self.state.withLock { s in
                    defer { s.sleeper = nil }
                    return s.sleeper
                }
                c?.resume()
            }
        }
    }
}
