import ConcurrencyPrimitives
internal import NIOCore
internal import NIOPosix

extension ClientCore {
    /// Makes the waiter for one accepted publish; its single completion is counted.
    func makePublishWaiter() -> MQTTWaiter<MQTTPublishResult> {
        metrics.accepted()
        let metrics = self.metrics
        return MQTTWaiter { result in metrics.outcome(result) }
    }

    /// Checks what the machine cannot: the broker's Maximum Packet Size ([MQTT-3.1.2-24]).
    func checkSize(_ packet: PublishPacket, _ s: State) -> MQTTError? {
        let estimate =
            5 + 2 + packet.topic.utf8.count + 2 + packet.payload.readableBytes
            + (packet.properties.isEmpty ? 1 : 64 + packet.properties.count * 64)
        guard estimate > s.machine.serverMaximumPacketSize else { return nil }
        var encoder = MQTTPacketEncoder(
            version: configuration.version, maximumPacketSize: s.machine.serverMaximumPacketSize)
        var scratch = ByteBuffer()
        var probe = packet
        if probe.qos != .atMostOnce { probe.packetID = 1 }
        do { try encoder.encode(.publish(probe), into: &scratch) } catch { return error }
        return nil
    }

    /// Properties the application passed must be valid in a PUBLISH sent by a client.
    func checkProperties(_ packet: PublishPacket) -> MQTTError? {
        guard !packet.properties.isEmpty else { return nil }
        do { try packet.properties.validateOutbound(for: .publish) } catch { return error }
        return nil
    }

    /// Accepts a publish without waiting; returns its waiter (already failed if rejected).
    func enqueue(_ packet: PublishPacket) -> MQTTWaiter<MQTTPublishResult> {
        let waiter = makePublishWaiter()
        var effects: [Effect] = []
        state.withLock { s in
            if let error = checkProperties(packet) ?? checkSize(packet, s) {
                effects.append(.publishDone(waiter, .failure(error)))
                return
            }
            apply(s.machine.publish(packet, completion: .publish(waiter)), to: &s, effects: &effects)
        }
        run(effects)
        return waiter
    }

    /// Accepts a publish, waiting for queue space first when the policy is `wait(timeout:)`.
    func publish(_ packet: PublishPacket) async throws(MQTTError) -> MQTTPublishResult {
        if case .wait(let timeout) = configuration.publishQueuePolicy.kind {
            try await waitForSpace(deadline: .now + timeout, timeout: timeout)
        }
        return try await enqueue(packet).value()
    }

    /// Suspends until the publish queue has room, the client shuts down, or the deadline passes.
    private func waitForSpace(deadline: ContinuousClock.Instant, timeout: Duration) async throws(MQTTError) {
        while true {
            let now = ContinuousClock.now
            if now >= deadline { throw MQTTError(.timeout, "no room in the publish queue within \(timeout)") }
            let lookAgain: Bool = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let registered: UInt64? = state.withLock { s in
                    if s.machine.queueHasSpace || s.isShutdown { return nil }
                    let id = s.nextID
                    s.nextID += 1
                    s.spaceWaiters[id] = c
                    return id
                }
                guard let registered else {
                    c.resume(returning: false)
                    return
                }
                let remaining = deadline - now
                MultiThreadedEventLoopGroup.singleton.next().scheduleTask(
                    in: .nanoseconds(
                        Int64(remaining.components.seconds) * 1_000_000_000 + remaining.components.attoseconds
                            / 1_000_000_000)
                ) {
                    let timedOut = self.state.withLock { s in s.spaceWaiters.removeValue(forKey: registered) }
                    timedOut?.resume(returning: true)
                }
            }
            if !lookAgain { return }  // room now (or shut down: the machine will fail the publish)
        }
    }
}
