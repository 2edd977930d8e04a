import BrokerLauncher
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// Scenarios for the MQTT bridge (`VirtualBusBridge`): the bridge owns the bus's shutdown, so these
/// start shutdown with the bridge's graceful shutdown and let the bridge shut the bus down; the
/// watchdog then checks the bus as in every other scenario, and ``BridgeRig`` checks the bridge.
extension ShutdownScenario {
    /// The bridge scenarios, all on `broker` except ``bridgeBrokerLost`` (which kills a broker of
    /// its own each iteration).
    public static func bridgeScenarios(broker: BridgeBroker) -> [ShutdownScenario] {
        [bridgeIdle(broker), bridgeMidStream(broker), bridgeBrokerLost, bridgeStartRace(broker)]
    }

    /// A relaying bridge with no traffic, shut down.
    static func bridgeIdle(_ broker: BridgeBroker) -> ShutdownScenario {
        ShutdownScenario(
            name: "bridge-idle", summary: "a relaying MQTT bridge (out and in rules) with no traffic is shut down"
        ) { h in
            let rig = BridgeRig(
                h, port: try await broker.port(),
                rules: try bridgeRules(h, qos: MQTTQoS(rawValue: UInt8(h.random(in: 0...2)))!))
            for _ in 0..<h.random(in: 0...2) { h.consume(try await h.subscribe(to: countedPrefixes(h))) }
            guard await rig.startRelaying(h) else { return }
            await h.jitter()
            await rig.shutdown(h)
            if let error = rig.runError.value { h.fail("the bridge's run failed: \(error)") }
        }
    }

    /// Traffic both ways at QoS 1 when graceful shutdown starts.
    static func bridgeMidStream(_ broker: BridgeBroker) -> ShutdownScenario {
        ShutdownScenario(
            name: "bridge-mid-stream",
            summary:
                """
                the bridge relays out (bus -> MQTT) and in (MQTT -> bus) at QoS 1 when shutdown starts; every \
                message it took is acknowledged or failed with a reason
                """
        ) { h in
            let port = try await broker.port()
            let rules = try bridgeRules(h, qos: .atLeastOnce)
            let tag = rules[0].remotePrefix
            let peer = try await MQTTPeer(
                port: port, clientID: "suite-peer-\(h.seed)-\(h.random(in: 0...1_000_000))", within: .seconds(10),
                logger: BridgeRig.logger)
            let counting = try await peer.count(tag + "t/#")
            h.consume(try await h.subscribe(to: countedPrefixes(h)))
            let inbound = try await h.subscribe(to: ["in/"], counted: false)
            h.consume(inbound)
            let rig = BridgeRig(h, port: port, rules: rules)
            guard await rig.startRelaying(h) else {
                await peer.close()
                return
            }
            // Confirmed traffic: everything accepted so far has been taken by the bridge (out) and
            // has reached the bus (in) before shutdown starts.
            let publisher = try h.makePublisher(policy: .failFast)
            _ = await h.burst(publisher, limit: h.random(in: 1...300)).value(before: .now + .seconds(10))
            await peer.publish(h.random(in: 1...20), on: tag + "cmd/warm", index: 1_000)
            await h.barrier()
            let confirmedOut =
                await h.awaitCondition("the bridge took every accepted bus message") {
                    rig.outbound.forwarded >= acceptedOut(h)
                } ? acceptedOut(h) : 0
            let confirmedIn = peer.acknowledgedCount
            _ = await h.awaitCondition("every acknowledged MQTT message reached the bus") {
                inbound.seen >= confirmedIn
            }
            // Mid-stream: both directions keep going through shutdown. The bus side is bounded:
            // what the bridge took but had not relayed when its drain ended is relayed into the
            // closed session (relaying after the drain), and an unbounded burst makes
            // that a whole 8,192-message batch, seconds under a sanitizer.
            h.burst(publisher, limit: h.random(in: 500...5_000))
            let streamIn = Task { await peer.publish(.max, on: tag + "cmd/stream", index: 1_001) }
            await h.awaitProgress(h.random(in: 1...500))
            await h.jitter()
            await rig.shutdown(h)
            await checkOutbound(h, rig, peer: peer, confirmed: confirmedOut)
            rig.verifyDrainOrder(h)
            let statistics = rig.bridge.statistics[1]
            if statistics.forwardedIn < confirmedIn {
                h.fail(
                    """
                    in: \(confirmedIn) messages reached the bus before shutdown but the bridge counts \
                    \(statistics.forwardedIn) forwarded
                    """
                )
            }
            if inbound.seen > statistics.forwardedIn {
                h.fail(
                    """
                    in: the bus subscriber saw \(inbound.seen) relayed messages, the bridge counts \
                    \(statistics.forwardedIn)
                    """
                )
            }
            if statistics.forwardedIn + statistics.droppedIn.values.reduce(0, +) > peer.publishedCount {
                h.fail(
                    """
                    in: \(statistics.forwardedIn) forwarded + \(statistics.droppedIn) dropped, but only \
                    \(peer.publishedCount) published
                    """
                )
            }
            await peer.close()
            await streamIn.value
            await counting.value
        }
    }

    /// The broker dies while the bridge relays: before shutdown starts, or while it runs.
    static let bridgeBrokerLost = ShutdownScenario(
        name: "bridge-broker-lost",
        summary:
            """
            the bridge's broker is killed mid-stream, before or during shutdown; the bridge still ends within its \
            deadline
            """
    ) { h in
        let broker = BridgeBroker()
        let port: Int
        do { port = try await broker.port() } catch { await broker.stop(); throw error }
        let reconnect =
            h.random(in: 0...1) == 0
            ? nil : MQTTReconnectPolicy(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
        // With a reconnect policy, in-flight publishes wait for a broker that is gone until the
        // drain timeout: a short one keeps iterations short without changing what is checked.
        let rig = BridgeRig(
            h, port: port, rules: try bridgeRules(h, qos: .atLeastOnce),
            drainTimeout: .milliseconds(h.random(in: 50...500)), reconnect: reconnect)
        h.consume(try await h.subscribe(to: countedPrefixes(h)))
        guard await rig.startRelaying(h) else {
            await broker.stop()
            return
        }
        h.burst(try h.makePublisher(policy: .failFast))
        await h.awaitProgress(h.random(in: 1...300))
        // The broker dies before shutdown starts, or while the bridge drains.
        let killed = Task { await broker.stop() }
        if h.random(in: 0...1) == 0 { await killed.value }
        await h.jitter()
        await rig.shutdown(h)
        await killed.value
        await checkOutbound(h, rig, peer: nil, confirmed: 0)
    }

    /// Graceful shutdown lands anywhere in the bridge's start: before the connection, during
    /// CONNECT or the subscriptions, or once relaying; sometimes the broker is unreachable.
    static func bridgeStartRace(_ broker: BridgeBroker) -> ShutdownScenario {
        ShutdownScenario(
            name: "bridge-start-race",
            summary: "graceful shutdown races the bridge's start (connecting, subscribing, or an unreachable broker)"
        ) { h in
            let reachable = h.random(in: 0...3) > 0
            // Unreachable: a port held refusing for the whole iteration, so no broker started
            // meanwhile (by another scenario or test) can be handed it.
            let nobody = reachable ? nil : try RefusingPort()
            defer { nobody?.release() }
            let port = if let nobody { nobody.port } else { try await broker.port() }
            let rig = BridgeRig(
                h, port: port, rules: try bridgeRules(h, qos: MQTTQoS(rawValue: UInt8(h.random(in: 0...2)))!),
                connectTimeout: reachable ? .seconds(5) : .milliseconds(h.random(in: 10...300)))
            h.consume(try await h.subscribe(to: countedPrefixes(h)))
            if h.random(in: 0...1) == 0 {
                h.burst(try h.makePublisher(policy: .failFast), limit: h.random(in: 0...1_000))
            }
            rig.start(h)
            for _ in 0..<h.random(in: 0...30) { await h.jitter() }
            await rig.shutdown(h)
            if reachable, rig.bridge.isRelaying, let error = rig.runError.value {
                h.fail("the bridge's run failed after it was relaying: \(error)")
            }
        }
    }

    /// An out rule for the suite's `t/` topics and an in rule bringing `cmd/` onto the bus as
    /// `in/cmd/`, under an MQTT prefix of the iteration's own.
    static func bridgeRules(_ h: ScenarioHarness, qos: MQTTQoS) throws(BridgeError) -> [BridgeRule] {
        let tag = "suite/\(h.seed)-\(h.random(in: 0...1_000_000))/"
        return [
            try BridgeRule(.out, "t/#", remotePrefix: tag, qos: qos),
            try BridgeRule(.in, "cmd/#", localPrefix: "in/", remotePrefix: tag, qos: qos),
        ]
    }

    /// Prefixes for counted subscriptions next to a bridge: never the empty prefix, which would
    /// also match what the bridge brings in (`in/...`, not published by the suite's publishers).
    static func countedPrefixes(_ h: ScenarioHarness) -> [String] {
        h.pick([["t/"], ["t/a"], ["u/"], ["t/b", "u/c"]])
    }

    /// Bus messages accepted on topics the out rule carries.
    static func acceptedOut(_ h: ScenarioHarness) -> Int {
        h.state.withLock { $0.publishers }.reduce(0) { total, publisher in
            total + publisher.accepted.reduce(0) { $0 + ($1.key.hasPrefix("t/") ? $1.value : 0) }
        }
    }

    /// Out accounting: what the bridge took is bounded by what was accepted and includes what was
    /// confirmed; what the broker acknowledged reaches a QoS 1 subscriber (`peer`).
    static func checkOutbound(_ h: ScenarioHarness, _ rig: BridgeRig, peer: MQTTPeer?, confirmed: Int) async {
        // A publisher thread counts a message as accepted only after libzmq took it: until the
        // threads have ended (the bus refuses them now), the bridge may hold a message the count
        // does not include yet (seen once in 1,000 release iterations: 257 taken, 256 counted).
        for worker in h.state.withLock({ $0.workers }) where await worker.value(before: .now + .seconds(3)) == nil {
            h.fail("out: a publisher thread did not end after the bridge shut the bus down")
        }
        let out = rig.outbound
        let accepted = acceptedOut(h)
        if out.forwarded < confirmed {
            h.fail("out: \(confirmed) messages were taken before shutdown, the bridge counts \(out.forwarded)")
        }
        if out.forwarded > accepted {
            h.fail("out: the bridge took \(out.forwarded) messages, only \(accepted) were published")
        }
        h.state.withLock { state in
            state.componentAccounting.add(
                Accounting(
                    expected: accepted, confirmed: confirmed, delivered: out.acknowledged,
                    dropped: out.failed, lostInFlight: max(0, accepted - out.forwarded)
                ))
        }
        if let peer, !(await peer.awaitReceived(out.acknowledged, within: .seconds(5))) {
            h.fail(
                """
                out: the broker acknowledged \(out.acknowledged) messages, a QoS 1 subscriber received \
                \(peer.receivedCount)
                """
            )
        }
    }
}

extension ScenarioHarness {
    /// Waits (bounded) until `condition` holds; fails the iteration with `what` after `limit`.
    func awaitCondition(_ what: String, within limit: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            if ContinuousClock.now >= deadline {
                fail("not within \(limit): \(what)")
                return false
            }
            try? await Task.sleep(for: .microseconds(200))  // polling counters, bounded by the deadline
        }
        return true
    }
}
