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
///   deadline) -> MQTT DISCONNECT -> the bus's own ordered shutdown.
public final class MQTTBridge: Service, Sendable {
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
    let logger: Logger
    private let relaying = Locked(false)
    private let retainedCache = Locked<BusLastValueCache?>(nil)

    /// How long ``run()`` waits for the first connection before it fails with
    /// ``BridgeError/Code/brokerUnavailable`` (later outages are reconnected per the client's policy).
    let connectTimeout: Duration

    /// Creates a bridge between `bus` and `mqtt` (which the bridge runs: do not run it elsewhere).
    ///
    /// `metricsFactory` is where the bridge's swift-metrics instruments come from (`nil`: the
    /// process-wide `MetricsSystem.factory`; tests inject their own, since `MetricsSystem.bootstrap`
    /// can run only once per process). Their labels and dimensions are in docs/bridge.md.
    public init(bus: VirtualBus, mqtt: MQTTClient, rules: [BridgeRule], id: String? = nil,
                connectTimeout: Duration = .seconds(10), shutdownTimeout: Duration = .seconds(5),
                logger: Logger = Logger(label: "VirtualBusBridge"), metricsFactory: (any MetricsFactory)? = nil) {
        self.connectTimeout = connectTimeout
        self.bus = bus
        self.mqtt = mqtt
        self.rules = rules
        let id = id ?? "bridge-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        self.id = id
        let metrics = BridgeMetrics(bridge: id, ruleCount: rules.count, factory: metricsFactory) { [mqtt] in mqtt.publishQueueDepth }
        self.metrics = metrics
        self.counters = BridgeCounters(ruleCount: rules.count, metrics: metrics)
        self.outboundPrefixes = Set(rules.filter { $0.direction != .in }.map(\.busSubscriptionPrefix)).sorted()
        self.inboundFilters = rules.filter(\.direction.carriesIn).compactMap { try? MQTTTopicFilter($0.mqttSubscriptionFilter) }
        self.shutdownTimeout = shutdownTimeout
        self.logger = logger
    }

    /// Whether both sides' subscriptions are in place (messages published from now on are relayed).
    public var isRelaying: Bool { relaying.withLock { $0 } }

    /// The bus-side cache of retained MQTT messages (`nil` before relaying starts or without `in` rules).
    public var retainedStatistics: BusLastValueCache.Statistics? { retainedCache.withLock { $0?.statistics } }

    /// Per-rule counters, in the order of ``rules``.
    public var statistics: [BridgeRuleStatistics] { counters.snapshot }

    /// Runs the MQTT session and both relays until graceful shutdown or cancellation, then stops in
    /// order. Throws when the broker cannot be reached (and no reconnect policy is set).
    public func run() async throws {
        // Inbound subscriptions are registered before the session connects: a resumed session
        // redelivers unacknowledged messages right after CONNACK, and one that found no local
        // subscription yet would be acknowledged unseen.
        let subscribing = startInboundSubscriptions()
        try await waitUntilRegistered(subscribing.count)
        // The session is the last thing the bridge stops (step 3 below), so it must not see the
        // service group's graceful shutdown, which would end it at once and fail what is still in
        // flight: it runs detached from it; cancellation is still forwarded.
        // Made before the session starts, so the first connection is not missed; ends with the client.
        let connectionEvents = mqtt.events()
        let session = Task.detached { try await self.mqtt.run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await withTaskCancellationHandler { try await session.value } onCancel: { session.cancel() } }
            group.addTask { await self.recordConnectionEvents(connectionEvents) }
            let outbound: BusSubscription?, retained: BusLastValueCache?, inbound: [(Int, MQTTSubscription)]
            // Graceful shutdown during the start ends the session, which ends whatever the start
            // waits for (a connection, a SUBACK from a broker that went away).
            let stoppedWhileStarting = Atomic<Bool>(false)
            do {
                (outbound, retained, inbound) = try await withGracefulShutdownHandler {
                    try await waitForFirstConnection()
                    let outbound = try await subscribeOnBus()
                    // Retained messages from MQTT: late bus subscribers get the latest value per topic.
                    let retained = rules.contains { $0.direction.carriesIn } ? try bus.makeLastValueCache { [weak self] in self?.observeCache($0) } : nil
                    retainedCache.withLock { $0 = retained }
                    var subscribed: [(Int, MQTTSubscription)] = []
                    for (rule, subscription) in subscribing { subscribed.append((rule, try await subscription.value)) }
                    return (outbound, retained, subscribed)
                } onGracefulShutdown: {
                    stoppedWhileStarting.store(true, ordering: .relaxed)
                    self.mqtt.shutdown()
                }
            } catch {
                // A start that fails leaves nothing running: the session and the bus stop too.
                for (_, subscription) in subscribing { subscription.cancel() }
                mqtt.shutdown()
                await bus.shutdown()
                if stoppedWhileStarting.load(ordering: .relaxed) { return }
                throw error
            }
            relaying.withLock { $0 = true }
            logger.debug("bridge relaying", metadata: ["id": "\(id)", "rules": "\(rules.count)"])
            let outboundRelay = Task { if let outbound { await self.relayOut(outbound) } }
            let inboundRelays = Task {
                await withTaskGroup(of: Void.self) { relays in
                    for (rule, subscription) in inbound { relays.addTask { await self.relayIn(subscription, rule: rule, retained: retained) } }
                }
            }
            await untilShutdownOrSessionEnd(session)
            // 1. Stop taking messages. Bus side: end the subscription; what was taken is still
            //    published. MQTT side: stop the relays but keep the broker's subscriptions, so a
            //    persistent session queues for the next run; a message taken but not yet accepted
            //    by the bus stays unacknowledged, and the broker sends it again then.
            outbound?.cancel()
            inboundRelays.cancel()
            // 2. Wait for in-flight publishes, within the deadline.
            // An event, not a task group: a group would wait for its relay-watching child even
            // after the timeout (awaiting a task's value cannot be cancelled).
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
            // 3. MQTT DISCONNECT (fails what is left with `shutdown`, counted), 4. the bus.
            mqtt.shutdown()
            outboundRelay.cancel()
            await outboundRelay.value
            await inboundRelays.value
            await bus.shutdown()
            try await group.waitForAll()
        }
    }

    /// Returns on graceful shutdown, on cancellation, or when the MQTT session ends on its own: a
    /// lost broker with no reconnect policy (or its attempts used up). Then the bridge stops in the
    /// same order and ``run()`` throws the session's error: never a bridge that runs on, failing
    /// every message, until someone shuts it down.
    private func untilShutdownOrSessionEnd(_ session: Task<Void, any Error>) async {
        let stop = OneShotEvent()
        // Ends with the session, at the latest at step 3 of the shutdown.
        Task {
            let result = await session.result
            if case .failure(let error) = result, !stop.hasFired {
                logger.error("bridge: the MQTT session ended (\(error)); stopping the bridge", metadata: ["id": "\(id)"])
            }
            stop.fire()
        }
        // `wait()` also returns when this task is cancelled.
        await withGracefulShutdownHandler { await stop.wait() } onGracefulShutdown: { stop.fire() }
    }

    /// Feeds the connection gauge and counters until the client ends (every way out of ``run()``
    /// shuts it down) or the task is cancelled.
    private func recordConnectionEvents(_ events: AsyncStream<MQTTClientEvent>) async {
        for await event in events { metrics.record(event) }
        metrics.recordSessionEnded()
    }

    private func waitForFirstConnection() async throws {
        let connected = try await withThrowingTaskGroup(of: Bool.self) { waiting in
            waiting.addTask { try await self.mqtt.waitUntilConnected(); return true }
            waiting.addTask { try await Task.sleep(for: self.connectTimeout); return false }
            let connected = try await waiting.next() ?? false
            // Shutting the client down is what ends a wait for a connection that never comes
            // (the group waits for its children before it returns).
            if !connected { mqtt.shutdown() }
            waiting.cancelAll()
            return connected
        }
        guard connected else {
            await bus.shutdown()
            let address = "\(mqtt.configuration.host):\(mqtt.configuration.port)"
            throw BridgeError(.brokerUnavailable, "cannot reach the MQTT broker at \(address) within \(connectTimeout)")
        }
    }

    private func subscribeOnBus() async throws -> BusSubscription? {
        guard !outboundPrefixes.isEmpty else { return nil }
        return try await bus.subscribe(to: outboundPrefixes)
    }

    private func startInboundSubscriptions() -> [(Int, Task<MQTTSubscription, any Error>)] {
        rules.enumerated().filter { $0.element.direction.carriesIn }.map { index, rule in
            // Retain As Published (5.0): live retained publishes keep their flag, so the bus-side cache
            // follows them (a 3.1.1 broker sets it only on the values it sends at subscription).
            let options = MQTTSubscriptionOptions(qos: rule.qos, noLocal: true, retainAsPublished: true)
            return (index, Task {
                try await self.mqtt.subscribe(to: [MQTTTopicFilter(rule.mqttSubscriptionFilter)], options: options, acknowledgement: .manual)
            })
        }
    }

    /// Waits until the client holds `count` local subscriptions: each subscription task registers
    /// its own at its first step, which the client offers no other way to observe.
    private func waitUntilRegistered(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while mqtt.statistics.subscriptions < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1)) // polling the registration, not timing
        }
    }
}
