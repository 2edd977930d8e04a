import ConcurrencyPrimitives
import Synchronization
import TestSupport
import VirtualBus

/// Runs one iteration under time limits and checks the bus's state after shutdown.
///
/// Time limits: the scenario must reach shutdown within ``setupLimit``; from the first shutdown
/// call (or the release) the whole scenario must end within the shutdown deadline plus ``grace``.
/// Missing either is a hang: the iteration is abandoned (its threads are left to the process) and
/// the failure names the phase that blocked, inferred from which threads are still running.
struct Watchdog {
    var setupLimit: Duration
    var grace: Duration
    var lateness: Duration
    var shutdownDeadline: Duration
    var shutdownOrder: ShutdownOrder

    /// `deinit` shuts a released bus down with this fixed deadline (see VirtualBus).
    static let releaseDeadline = Duration.seconds(2)

    func run(_ scenario: ShutdownScenario, seed: UInt64) async -> IterationResult {
        var random = SplitMix64(seed: seed)
        var configuration = BusConfiguration()
        configuration.shutdownOrder = shutdownOrder
        scenario.configure(&configuration, &random)
        var result = IterationResult(seed: seed)
        let harness: ScenarioHarness
        do {
            harness = try ScenarioHarness(
                scenarioName: scenario.name, seed: seed, configuration: configuration,
                shutdownDeadline: shutdownDeadline, lateness: lateness, random: random.split()
            )
        } catch {
            result.failure = ShutdownFailure(
                scenario: scenario.name, seed: seed, isHang: false, problems: ["the bus could not be created: \(error)"]
            )
            return result
        }
        let finished = OneShotEvent()
        let bodyError = Locked<String?>(nil)
        let body = Task {
            do { try await scenario.body(harness) } catch { bodyError.value = "the scenario threw: \(error)" }
            finished.fire()
        }
        let started = ContinuousClock.now
        _ = await Self.firstOf(finished, harness.shutdownStarted, until: started + setupLimit)
        let shutdownStart = harness.state.withLock { $0.firstShutdownStart }
        var ended = finished.hasFired
        if !ended, let shutdownStart {
            let budget = harness.state.withLock { $0.componentBudget }
            ended = await finished.wait(
                until: shutdownStart + max(shutdownDeadline, Self.releaseDeadline) + budget + grace)
        }
        if !ended {
            body.cancel()
            var failure = ShutdownFailure(scenario: scenario.name, seed: seed, isHang: true, problems: [])
            failure.problems.append(
                shutdownStart == nil
                    ? "the scenario did not reach shutdown within \(setupLimit)"
                    : "shutdown did not return within its deadline (\(shutdownDeadline)) plus \(grace)")
            let findings = await inspect(harness)
            failure.problems += findings.problems
            failure.blockedPhase = findings.blocked
            failure.reportedAfter = shutdownStart.map { .now - $0 }
            result.failure = failure
            Self.release(harness)
            return result
        }
        var findings = await inspect(harness)
        if let error = bodyError.value { findings.problems.insert(error, at: 0) }
        let calls = harness.state.withLock { $0.calls }
        result.shutdownDuration =
            harness.state.withLock { $0.releaseDuration ?? $0.componentShutdownDuration }
            ?? calls.first.map { $0.returned - $0.started }
        result.accounting = findings.accounting
        if !findings.problems.isEmpty {
            result.failure = ShutdownFailure(
                scenario: scenario.name, seed: seed, blockedPhase: findings.blocked, isHang: findings.blocked != nil,
                reportedAfter: shutdownStart.map { .now - $0 }, problems: findings.problems, report: calls.first?.report
            )
            Self.release(harness)
        }
        return result
    }

    struct Findings {
        var problems: [String] = []
        var blocked: ShutdownReport.PhaseName?
        var accounting = Accounting()
    }

    /// Every check after shutdown: time, reports, consumers, publishers, threads, context, accounting.
    func inspect(_ harness: ScenarioHarness) async -> Findings {
        let state = harness.state.withLock { $0 }
        var findings = Findings(problems: state.problems)
        if let release = state.releaseDuration {
            if release > Self.releaseDeadline + lateness {
                findings.problems.append(
                    "releasing the bus (deinit shutdown) took \(release), deadline \(Self.releaseDeadline)")
            }
        } else if state.calls.isEmpty {
            findings.problems.append("no shutdown call returned and the bus was not released")
        }
        for call in state.calls {
            let elapsed = call.returned - call.started
            if elapsed > shutdownDeadline + lateness {
                findings.problems.append(
                    "shutdown returned \(elapsed) after it was called; its deadline was \(shutdownDeadline)")
            }
            if !call.report.isComplete {
                findings.blocked = findings.blocked ?? call.report.blockedPhase
                findings.problems.append(
                    "shutdown incomplete, blocked in \(call.report.blockedPhase?.rawValue ?? "?"): \(call.report)")
            }
        }
        if Set(state.calls.map(\.report.duration)).count > 1 {
            findings.problems.append(
                "\(state.calls.count) shutdown callers got different reports (more than one sequence ran)")
        }
        let after = ContinuousClock.now + grace
        for (index, consumer) in state.consumers.enumerated() where !(await Self.ends(consumer, before: after)) {
            findings.problems.append("consumer task \(index) still running \(grace) after shutdown returned")
        }
        for (index, worker) in state.workers.enumerated() where await worker.value(before: after) == nil {
            findings.problems.append("publisher thread \(index) still blocked \(grace) after shutdown returned")
        }
        for subscription in state.subscriptions where !subscription.subscription.isFinished {
            findings.problems.append("subscription \(subscription.position) (\(subscription.prefixes)) did not finish")
        }
        checkThreads(state, into: &findings)
        for thread in state.runLoopThreadsDuring.values
        where !(await thread.exited.wait(until: .now + .milliseconds(500))) {
            findings.problems.append("run-loop thread \(thread.name) (subscribed during shutdown) still running")
            findings.blocked = findings.blocked ?? .stopRunLoops
        }
        checkAccounting(harness, state, into: &findings)
        if findings.blocked != nil {
            findings.problems.append("bus threads alive in this process: \(ProcessThreads.names())")
        }
        return findings
    }

    private func checkThreads(_ state: ScenarioHarness.State, into findings: inout Findings) {
        let running = state.runLoopThreadsBefore.values.filter { !$0.exited.hasFired }
        if !running.isEmpty {
            findings.problems.append(
                "run-loop threads still running after shutdown returned: \(running.map(\.name).sorted())")
            findings.blocked = findings.blocked ?? .stopRunLoops
        }
        if let proxy = state.proxyThread, !proxy.exited.hasFired {
            findings.problems.append("the proxy thread is still running after shutdown returned")
            findings.blocked = findings.blocked ?? .stopProxy
        }
        let servers = state.serverThreads.filter { !$0.exited.hasFired }
        if !servers.isEmpty {
            findings.problems.append(
                "helper threads still running after shutdown returned: \(servers.map(\.name).sorted())")
            findings.blocked = findings.blocked ?? .stopProxy
        }
        if let context = state.context, !context.isTerminated {
            findings.problems.append(
                "the ZeroMQ context is not terminated\(context.isTerminating ? " (zmq_ctx_term still blocked)" : "")")
            findings.blocked = findings.blocked ?? .terminateContext
        }
    }

    private func checkAccounting(
        _ harness: ScenarioHarness, _ state: ScenarioHarness.State, into findings: inout Findings
    ) {
        findings.accounting.add(state.componentAccounting)
        let quiescent = state.acceptedAtBarrier == harness.acceptedTotal.value
        for subscription in state.subscriptions {
            findings.problems += subscription.violations
            let statistics = subscription.subscription.statistics
            if subscription.seen > statistics.delivered {
                findings.problems.append(
                    """
                    subscription \(subscription.position): consumer saw \(subscription.seen) messages but \
                    \(statistics.delivered) were delivered
                    """
                )
            }
            if statistics.buffered != 0 {
                findings.problems.append(
                    """
                    subscription \(subscription.position) still buffers \(statistics.buffered) messages after it \
                    finished
                    """
                )
            }
            guard subscription.isCounted else { continue }
            let expected = ScenarioHarness.expected(for: subscription, publishers: state.publishers)
            let accounted = statistics.delivered + statistics.dropped
            let name = "subscription \(subscription.position) (\(subscription.prefixes))"
            if accounted < subscription.confirmed {
                findings.problems.append(
                    """
                    \(name): \(subscription.confirmed - accounted) of \(subscription.confirmed) messages that \
                    reached it before shutdown are neither delivered nor counted dropped (\(statistics))
                    """
                )
            }
            if accounted > expected {
                findings.problems.append(
                    "\(name): \(accounted) messages delivered or dropped but only \(expected) published (\(statistics))"
                )
            }
            if quiescent && subscription.confirmed == expected && accounted != expected {
                findings.problems.append(
                    """
                    \(name): nothing was in flight, yet \(expected - accounted) of \(expected) messages are \
                    unaccounted (\(statistics))
                    """
                )
            }
            findings.accounting.add(
                Accounting(
                    expected: expected, confirmed: subscription.confirmed, delivered: statistics.delivered,
                    dropped: statistics.dropped, lostInFlight: max(0, expected - accounted)
                ))
        }
    }

    /// After a failure: cancels the consumers, so their subscriptions are released and close their
    /// sockets. A context left terminating (the wrong order) can then finish instead of keeping its
    /// thread and sockets for the rest of the process.
    static func release(_ harness: ScenarioHarness) {
        for consumer in harness.state.withLock({ $0.consumers }) { consumer.cancel() }
    }

    /// Whether `task` ends before `deadline` (without cancelling it).
    static func ends(_ task: Task<Void, Never>, before deadline: ContinuousClock.Instant) async -> Bool {
        let done = OneShotEvent()
        let waiter = Task {
            await task.value
            done.fire()
        }
        let ended = await done.wait(until: deadline)
        if !ended { waiter.cancel() }
        return ended
    }

    /// Waits until either event fires or `deadline` passes; `true` if one fired.
    static func firstOf(_ first: OneShotEvent, _ second: OneShotEvent, until deadline: ContinuousClock.Instant) async
        -> Bool
    {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await first.wait(until: deadline) }
            group.addTask { await second.wait(until: deadline) }
            let fired = await group.next() ?? false
            group.cancelAll()
            return fired || first.hasFired || second.hasFired
        }
    }
}
