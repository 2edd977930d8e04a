import ConcurrencyPrimitives
public import Logging
public import Metrics
public import ServiceLifecycle
import Synchronization
public import VirtualBus
public import VirtualBusMQTT

/// Relays messages between a ``VirtualBus/VirtualBus`` and an MQTT session by ``BridgeRule``s.
///
/// - Bus -> MQTT uses the session's bounded publish queue; every message taken from the bus ends in
///   one counted outcome (acknowledged, or failed with the MQTT reason).
/// - MQTT -> bus publishes exactly the mapped topic and payload (two frames, nothing in-band). The
///   bridge never relays its own messages back: it expects each one it injects on its own outbound
///   subscription and cancels exactly those (see docs/bridge.md); towards MQTT, No Local (5.0) or
///   an echo filter (3.1.1) does the same.
/// - Shutdown order: stop taking bus messages -> wait for in-flight publishes (within the
///   deadline) -> MQTT DISCONNECT -> the bus's own ordered shutdown. Standalone, the bridge does
///   all four; composed in a `ServiceGroup` with the bus and the client (``Composition``), it does
///   the first two and the group the rest, in the reverse order of its services.
public final class MQTTBridge: Service, Sendable {
    /// Who runs the MQTT session and shuts the bus down.
    public enum Composition: Sendable, Hashable {
        /// The bridge runs the client's session itself and shuts the bus down after it: one
        /// service to run.
        case standalone
        /// A `ServiceGroup` runs the bus, the client and the bridge, in that order:
        /// `ServiceGroup(services: [bus, mqtt, bridge])`. The bridge waits for the client's first
        /// connection, relays, and on graceful shutdown drains what is in flight and returns; the
        /// group then stops the client (DISCONNECT) and the bus. A stop during the start, or a
        /// drain that runs out of time, still ends the session at once, so that every message the
        /// bridge took has its outcome before ``run()`` returns.
        case serviceGroup
    }

    /// The rules, in order: a message goes by the first rule that carries it.
    public let rules: [BridgeRule]
    /// This bridge's name in logs (and its MQTT client's, when the CLI makes one).
    public let id: String
    let bus: VirtualBus
    let mqtt: MQTTClient
    let counters: BridgeCounters
    let metrics: BridgeMetrics
    /// Our publishes coming back from a 3.1.1 broker.
    let echoes = EchoFilter()
    /// What we brought in from MQTT, coming back on our own outbound bus subscription.
    let busEchoes = EchoFilter()
    /// The prefixes of the outbound bus subscription.
    let outboundPrefixes: [String]
    /// The MQTT filters of the inbound subscriptions: an outbound publish they match comes back
    /// from a 3.1.1 broker (which has no No Local), whichever rules carried it each way.
    let inboundFilters: [MQTTTopicFilter]
    let shutdownTimeout: Duration
    let composition: Composition
    let logger: Logger
    private let lifecycle = Locked(BridgeLifecycle())
    private let retainedCache = Locked<BusLastValueCache?>(nil)

    /// How long ``run()`` waits for the first connection before it fails with
    /// ``BridgeError/Code/brokerUnavailable`` (later outages are reconnected per the client's policy).
    let connectTimeout: Duration

    /// Creates a bridge between `bus` and `mqtt`. Standalone (the default) the bridge runs `mqtt`
    /// and shuts `bus` down: do not run either elsewhere. With `.serviceGroup`, run all three in one
    /// group, bus first and bridge last.
    ///
    /// `metricsFactory` is where the bridge's swift-metrics instruments come from (`nil`: the
    /// process-wide `MetricsSystem.factory`; tests inject their own, since `MetricsSystem.bootstrap`
    /// can run only once per process). Their labels and dimensions are in docs/bridge.md.
    public init(
        bus: VirtualBus, mqtt: MQTTClient, rules: [BridgeRule], id: String? = nil,
        connectTimeout: Duration = .seconds(10), shutdownTimeout: Duration = .seconds(5),
        composition: Composition = .standalone,
        logger: Logger = Logger(label: "VirtualBusBridge"), metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.connectTimeout = connectTimeout
        self.composition = composition
        self.bus = bus
        self.mqtt = mqtt
        self.rules = rules
        let id = id ?? "bridge-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        self.id = id
        let metrics = BridgeMetrics(bridge: id, ruleCount: rules.count, factory: metricsFactory) { [mqtt] in
            mqtt.publishQueueDepth
        }
        self.metrics = metrics
        self.counters = BridgeCounters(ruleCount: rules.count, metrics: metrics)
        self.outboundPrefixes = Set(rules.filter { $0.direction != .in }.map(\.busSubscriptionPrefix)).sorted()
        self.inboundFilters = rules.filter(\.direction.carriesIn).compactMap {
            try? MQTTTopicFilter($0.mqttSubscriptionFilter)
        }
        self.shutdownTimeout = shutdownTimeout
        self.logger = logger
    }

    /// Whether both sides' subscriptions are in place (messages published from now on are relayed).
    public var isRelaying: Bool { lifecycle.withLock { $0.isRelaying } }

    /// The bus-side cache of retained MQTT messages (`nil` before relaying starts or without `in` rules).
    public var retainedStatistics: BusLastValueCache.Statistics? { retainedCache.withLock { $0?.statistics } }

    /// Per-rule counters, in the order of ``rules``.
    public var statistics: [BridgeRuleStatistics] { counters.snapshot }

    /// Runs the MQTT session and both relays until graceful shutdown or cancellation, then stops in
    /// order. Throws when the broker cannot be reached (and no reconnect policy is set). Call it once.
    public func run() async throws {
        lifecycle.withLock { $0.runStarted() }
        // Inbound subscriptions are registered before the session connects: a resumed session
        // redelivers unacknowledged messages right after CONNACK, and one that found no local
        // subscription yet would be acknowledged unseen.
        let inbound = try registerInboundSubscriptions()
        // The session is the last thing the bridge stops, so it must not see the service group's
        // graceful shutdown, which would end it at once and fail what is still in flight: it runs
        // detached from it; cancellation is still forwarded. The event stream is made before the
        // session starts, so the first connection is not missed; it ends with the client.
        let connectionEvents = mqtt.events()
        let firstConnection = mqtt.events()
        let stopped = OneShotEvent()
        // Relays until a graceful shutdown (or the session's end, or cancellation) stops it.
        let relay = { () async throws in
            try await withGracefulShutdownHandler {
                try await self.startThenRelay(inbound, until: stopped, firstConnection: firstConnection)
            } onGracefulShutdown: {
                self.perform(self.lifecycle.withLock { $0.stop() }, stopped)
            }
        }
        guard composition == .standalone else {
            // The client may be connected already: the group starts its services together.
            // The group runs the session, and ends it (and the bus) after this returns.
            let recording = Task { await self.recordConnectionEvents(connectionEvents) }
            defer { recording.cancel() }
            try await relay()
            return
        }
        let session = Task.detached { try await self.mqtt.run() }
        Task {
            let result = await session.result
            let action = lifecycle.withLock { $0.sessionEnded() }
            if case .failure(let error) = result, action == .drain {
                logger.error(
                    "bridge: the MQTT session ended (\(error)); stopping the bridge", metadata: ["id": "\(id)"])
            }
            perform(action, stopped)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await session.value
                } onCancel: {
                    session.cancel()
                }
            }
            group.addTask { await self.recordConnectionEvents(connectionEvents) }
            try await relay()
            try await group.waitForAll()
        }
    }

    /// Standalone, the bridge shuts the bus down as its last step; in a group, the group does.
    private func shutDownBusIfOwned() async {
        if composition == .standalone { await bus.shutdown() }
    }

    /// Carries out what the lifecycle decided on a stop or the session's end.
    private func perform(_ action: BridgeLifecycle.StopAction, _ stopped: OneShotEvent) {
        switch action {
        case .none: break
        case .endSession: mqtt.shutdown()  // ends whatever the start waits for
        case .drain: stopped.fire()
        }
    }

    /// Waits for the first connection and the subscriptions, relays until `stopped` fires (or the
    /// task is cancelled), then stops in order.
    private func startThenRelay(
        _ inbound: [(Int, MQTTSubscriptionRegistration)], until stopped: OneShotEvent,
        firstConnection: AsyncStream<MQTTClientEvent>
    ) async throws {
        let outbound: BusSubscription?, retained: BusLastValueCache?, subscriptions: [(Int, MQTTSubscription)]
        do {
            try await waitForFirstConnection(firstConnection)
            outbound = try await subscribeOnBus()
            // Retained messages from MQTT: late bus subscribers get the latest value per topic.
            retained =
                rules.contains { $0.direction.carriesIn }
                ? try bus.makeLastValueCache { [weak self] in self?.observeCache($0) } : nil
            retainedCache.withLock { $0 = retained }
            var subscribed: [(Int, MQTTSubscription)] = []
            for (rule, registration) in inbound { subscribed.append((rule, try await registration.subscribed())) }
            subscriptions = subscribed
        } catch {
            // A start that fails leaves nothing running: the session and the bus stop too.
            for (_, registration) in inbound { registration.cancel() }
            // In a group, the group ends the client and the bus when this throws.
            if composition == .standalone { mqtt.shutdown() }
            await shutDownBusIfOwned()
            if lifecycle.withLock({ $0.startFailed() }) { return }
            throw error
        }
        guard lifecycle.withLock({ $0.started() }) == .relay else {
            outbound?.cancel()
            for (_, subscription) in subscriptions { subscription.cancel() }
            mqtt.shutdown()
            await shutDownBusIfOwned()
            return
        }
        logger.debug("bridge relaying", metadata: ["id": "\(id)", "rules": "\(rules.count)"])
        let outboundRelay = Task { if let outbound { await self.relayOut(outbound) } }
        let inboundRelays = Task {
            await withTaskGroup(of: Void.self) { relays in
                for (rule, subscription) in subscriptions {
                    relays.addTask { await self.relayIn(subscription, rule: rule, retained: retained) }
                }
            }
        }
        // Returns on a stop, on the session's end, or when this task is cancelled.
        await stopped.wait()
        _ = lifecycle.withLock { $0.stop() }
        // 1. Stop taking messages. Bus side: end the subscription; what was taken is still
        //    published. MQTT side: stop the relays but keep the broker's subscriptions, so a
        //    persistent session queues for the next run; a message taken but not yet accepted
        //    by the bus stays unacknowledged, and the broker sends it again then.
        outbound?.cancel()
        inboundRelays.cancel()
        // 2. Wait for in-flight publishes, within the deadline. An event, not a task group: a group
        //    would wait for its relay-watching child even after the timeout.
        let relaysEnded = OneShotEvent()
        Task {
            await outboundRelay.value
            await inboundRelays.value
            relaysEnded.fire()
        }
        let drained = await relaysEnded.wait(until: .now + shutdownTimeout)
        if !drained {
            logger.warning("bridge: in-flight publishes did not finish within the shutdown timeout")
            // Stop relaying what the bus subscription still holds: it would only fail below.
            outboundRelay.cancel()
        }
        // 3. MQTT DISCONNECT (fails what is left with `shutdown`, counted), 4. the bus. In a group,
        //    the group does both, unless the drain ran out of time: then the session ends here,
        //    so every message taken has its outcome before `run()` returns.
        if composition == .standalone || !drained { mqtt.shutdown() }
        outboundRelay.cancel()
        await outboundRelay.value
        await inboundRelays.value
        lifecycle.withLock { $0.drained() }
        await shutDownBusIfOwned()
    }

    /// Feeds the connection gauge and counters until the client ends (every way out of ``run()``
    /// shuts it down) or the task is cancelled.
    private func recordConnectionEvents(_ events: AsyncStream<MQTTClientEvent>) async {
        for await event in events { metrics.record(event) }
        metrics.recordSessionEnded()
    }

    /// Waits for the client's first CONNACK, at most ``connectTimeout``. `events` was made before
    /// the session started (or, in a group, before this looks at the client), so no connection is
    /// missed; it also tells the failed attempts, whose last reason the timeout error repeats.
    private func waitForFirstConnection(_ events: AsyncStream<MQTTClientEvent>) async throws {
        if mqtt.statistics.isConnected { return }
        let lastFailure = Locked<MQTTError?>(nil)
        enum Outcome { case connected, sessionEnded, timedOut }
        // A wait that cancellation ends: in a group the client is not the bridge's to shut down.
        let outcome = try await withThrowingTaskGroup(of: Outcome.self) { waiting in
            waiting.addTask {
                for await event in events {
                    if case .connected = event { return .connected }
                    if case .connectFailed(let error, _) = event { lastFailure.value = error }
                }
                return .sessionEnded
            }
            waiting.addTask {
                try await Task.sleep(for: self.connectTimeout)
                return .timedOut
            }
            defer { waiting.cancelAll() }
            return try await waiting.next() ?? .timedOut
        }
        switch outcome {
        case .connected:
            return
        case .sessionEnded:
            // The session gave up for good (a refused MQTT version, no reconnect policy): its error.
            try await mqtt.waitUntilConnected()
            return
        case .timedOut:
            break
        }
        let address = "\(mqtt.configuration.host):\(mqtt.configuration.port)"
        let reason = lastFailure.value.map { "; the last attempt: \($0.message)" } ?? ""
        throw BridgeError(
            .brokerUnavailable, "cannot reach the MQTT broker at \(address) within \(connectTimeout)\(reason)")
    }

    private func subscribeOnBus() async throws -> BusSubscription? {
        guard !outboundPrefixes.isEmpty else { return nil }
        return try await bus.subscribe(to: outboundPrefixes)
    }

    private func registerInboundSubscriptions() throws(MQTTError) -> [(Int, MQTTSubscriptionRegistration)] {
        try rules.enumerated().filter { $0.element.direction.carriesIn }.map { index, rule throws(MQTTError) in
            // Retain As Published (5.0): live retained publishes keep their flag, so the bus-side cache
            // follows them (a 3.1.1 broker sets it only on the values it sends at subscription).
            let options = MQTTSubscriptionOptions(qos: rule.qos, noLocal: true, retainAsPublished: true)
            let filter = try MQTTTopicFilter(rule.mqttSubscriptionFilter)
            return (index, try mqtt.register(to: [filter], options: options, acknowledgement: .manual))
        }
    }
}
