import ConcurrencyPrimitives
import Logging
import ServiceLifecycle
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// One bridge per iteration between the harness's bus and a broker, run the way an application
/// runs it (in a `ServiceGroup`) and stopped the way one stops it (graceful shutdown), so the
/// bridge's own order is under test: stop taking bus messages -> drain in-flight publishes within
/// the drain timeout -> MQTT DISCONNECT -> the bus's shutdown.
final class BridgeRig: Sendable {
    let bridge: MQTTBridge
    let mqtt: MQTTClient
    let group: ServiceGroup
    /// How long the bridge may wait for in-flight publishes at shutdown.
    let drainTimeout: Duration
    /// Fired when the group's run returned.
    let ended = OneShotEvent()
    /// The error the group's run ended with, if any.
    let runError = Locked<String?>(nil)

    /// Quiet by default: the scenarios provoke the warnings (lost brokers, cut-off drains) on purpose.
    static let logger: Logger = {
        var logger = Logger(label: "shutdown-suite.bridge")
        logger.logLevel = .critical
        return logger
    }()

    init(
        _ h: ScenarioHarness, port: Int, rules: [BridgeRule], drainTimeout: Duration = .seconds(1),
        connectTimeout: Duration = .seconds(5), reconnect: MQTTReconnectPolicy? = nil
    ) {
        var configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: port, clientID: "suite-bridge-\(h.seed)-\(h.random(in: 0...1_000_000))")
        configuration.connectTimeout = connectTimeout
        configuration.reconnect = reconnect
        mqtt = MQTTClient(configuration: configuration, logger: Self.logger)
        bridge = MQTTBridge(
            bus: h.bus, mqtt: mqtt, rules: rules, connectTimeout: connectTimeout,
            shutdownTimeout: drainTimeout, logger: Self.logger)
        self.drainTimeout = drainTimeout
        group = ServiceGroup(services: [bridge], logger: Self.logger)
    }

    /// Runs the group on a task the watchdog waits for (and cancels if the iteration fails).
    func start(_ h: ScenarioHarness) {
        let (group, ended, runError) = (self.group, self.ended, self.runError)
        h.watch(
            Task {
                do { try await group.run() } catch { runError.value = "\(error)" }
                ended.fire()
            })
    }

    /// Waits (bounded) until the bridge subscribed on both sides; `false` after `limit`.
    func awaitRelaying(within limit: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !bridge.isRelaying {
            if ended.hasFired || ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(1))  // polling a flag, bounded by the deadline
        }
        return true
    }

    /// Starts the bridge and waits until it relays; if it does not, fails the iteration, shuts the
    /// bridge down and returns `false`.
    func startRelaying(_ h: ScenarioHarness) async -> Bool {
        start(h)
        if await awaitRelaying() { return true }
        h.fail("the bridge did not start relaying within 10 s: \(runError.value ?? "no error")")
        await shutdown(h)
        return false
    }

    /// Starts graceful shutdown as a `ServiceGroup` delivers it (the watchdog's timer starts here)
    /// and waits for the bridge to end: within the drain timeout plus the suite's shutdown deadline
    /// (the bus's ordered shutdown), plus lateness. Then collects the bus's report and checks what
    /// the bridge left behind.
    func shutdown(_ h: ScenarioHarness) async {
        h.beginShutdown(budget: drainTimeout + h.lateness)
        let start = ContinuousClock.now
        await group.triggerGracefulShutdown()
        let limit = drainTimeout + h.shutdownDeadline + h.lateness
        // What the bridge had taken from the bus when its drain timeout passed: anything it takes
        // after that is relayed into a closed session.
        let takenAtDrain = await ended.wait(until: start + drainTimeout) ? nil : outbound.forwarded
        if await ended.wait(until: start + limit) {
            h.state.withLock { $0.componentShutdownDuration = .now - start }
            verifyEnd(h)
        } else if let takenAtDrain, outbound.forwarded > takenAtDrain {
            h.fail(
                """
                the bridge kept relaying bus messages after its drain timeout: \
                \(outbound.forwarded - takenAtDrain) messages, and it did not end within \(limit) of graceful \
                shutdown (drain timeout \(drainTimeout))
                """
            )
        } else {
            h.fail("the bridge did not end within \(limit) of graceful shutdown (drain timeout \(drainTimeout))")
        }
        await h.shutdown()
    }

    /// The bridge's end state: the bus shut down by the bridge, the MQTT session closed with no
    /// publish left without an outcome, and every message taken from the bus ended in exactly one
    /// counted outcome (acknowledged, or failed with a reason).
    private func verifyEnd(_ h: ScenarioHarness) {
        if !h.bus.isShutDown {
            h.fail(
                "the bridge ended without shutting the bus down (its run ended with: \(runError.value ?? "no error"))")
        }
        let session = mqtt.statistics
        if session.isConnected { h.fail("the bridge's MQTT session is still connected after the bridge ended") }
        if session.publishesPending != 0 {
            h.fail("\(session.publishesPending) MQTT publishes have no outcome after the bridge ended")
        }
        for (index, rule) in bridge.statistics.enumerated() {
            let failed = rule.failedOut.values.reduce(0, +)
            if rule.forwardedOut != rule.acknowledgedOut + failed {
                h.fail(
                    """
                    rule \(index): \(rule.forwardedOut) messages taken from the bus, but \(rule.acknowledgedOut) \
                    acknowledged + \(failed) failed \(rule.failedOut)
                    """
                )
            }
        }
    }

    /// Checks the bridge's order when the broker stayed up: a drain that ended before its timeout
    /// leaves nothing for the DISCONNECT to fail.
    func verifyDrainOrder(_ h: ScenarioHarness) {
        guard let took = h.state.withLock({ $0.componentShutdownDuration }), took < drainTimeout else { return }
        let cutOff = bridge.statistics.reduce(0) { $0 + ($1.failedOut["shutdown"] ?? 0) }
        if cutOff > 0 {
            h.fail(
                """
                the MQTT session was shut down before the bridge drained: \(cutOff) publishes failed with \
                shutdown, the bridge ended after \(took) (drain timeout \(drainTimeout))
                """
            )
        }
    }

    /// Messages taken from the bus by out rules, acknowledged, and failed (all rules together).
    var outbound: (forwarded: Int, acknowledged: Int, failed: Int) {
        bridge.statistics.reduce((0, 0, 0)) { total, rule in
            (total.0 + rule.forwardedOut, total.1 + rule.acknowledgedOut, total.2 + rule.failedOut.values.reduce(0, +))
        }
    }
}
