import ConcurrencyPrimitives
import Synchronization
public import TestSupport
public import VirtualBus
import ZeroMQ

/// Everything one iteration of a scenario works with: the bus under test, a seeded generator, and
/// the bookkeeping the watchdog checks afterwards (subscriptions, publishers, consumers, threads,
/// every shutdown call and its report).
///
/// Scenario bodies create subscriptions, publishers and consumers through the harness, so the
/// watchdog knows what to verify, and call ``shutdown()`` (or ``releaseBus()``) exactly as an
/// application would.
public final class ScenarioHarness: Sendable {
    /// The scenario's name (for messages).
    public let scenarioName: String
    /// The seed that reproduces this iteration.
    public let seed: UInt64
    /// The deadline every ``shutdown()`` call gets.
    public let shutdownDeadline: Duration
    /// How late a shutdown may end past its bound (scheduling noise, sanitizers): the runner's
    /// ``ShutdownSuiteRunner/lateness``, for scenarios that check bounds of their own.
    public let lateness: Duration
    /// Topics the tracked publishers use; counted subscriptions must only match these.
    public let topics = ["t/a", "t/b", "u/c"]

    private let busSlot: Locked<VirtualBus?>
    private let generator: Mutex<SplitMix64>
    let state = Mutex(State())
    /// Fired when the first shutdown (or the release) starts; arms the watchdog's shutdown timer.
    let shutdownStarted = OneShotEvent()
    /// Total messages accepted by tracked publishers (compared across a barrier for quiescence).
    let acceptedTotal = Counter()

    struct ShutdownCall {
        var started: ContinuousClock.Instant
        var returned: ContinuousClock.Instant
        var report: ShutdownReport
    }

    struct State {
        var subscriptions: [TrackedSubscription] = []
        var publishers: [TrackedPublisher] = []
        var consumers: [Task<Void, Never>] = []
        var workers: [ThreadWork<Void>] = []
        var calls: [ShutdownCall] = []
        var firstShutdownStart: ContinuousClock.Instant?
        /// Run-loop threads known before shutdown began: they must have exited when it returns.
        var runLoopThreadsBefore: [ObjectIdentifier: DedicatedThread] = [:]
        /// Run-loop threads seen only after shutdown began (a subscription racing the shutdown).
        var runLoopThreadsDuring: [ObjectIdentifier: DedicatedThread] = [:]
        var proxyThread: DedicatedThread?
        /// Helper threads (remote control, peer monitor, ZAP handler) when configured.
        var serverThreads: [DedicatedThread] = []
        var context: ZMQContext?
        /// Set by ``releaseBus()``: how long the release (and so `deinit`) took.
        var releaseDuration: Duration?
        var acceptedAtBarrier: Int?
        var problems: [String] = []
        /// Accounting a component scenario did itself (a bridge's messages), added to the totals.
        var componentAccounting = Accounting()
        /// How long a component took from ``beginShutdown()`` to its end (the bridge's shutdown).
        var componentShutdownDuration: Duration?
        /// Extra time the watchdog allows before a hang (see ``beginShutdown(budget:)``).
        var componentBudget = Duration.zero
    }

    init(
        scenarioName: String, seed: UInt64, configuration: BusConfiguration, shutdownDeadline: Duration,
        lateness: Duration, random: SplitMix64
    ) throws {
        self.scenarioName = scenarioName
        self.seed = seed
        self.shutdownDeadline = shutdownDeadline
        self.lateness = lateness
        generator = Mutex(random)
        let bus = try VirtualBus(configuration: configuration)
        busSlot = Locked(bus)
        recordIntrospection(of: bus)
    }

    /// The bus under test. Do not keep it in a local across ``releaseBus()``: the release scenario
    /// depends on the harness holding the last reference.
    public var bus: VirtualBus {
        guard let bus = busSlot.withLock({ $0 }) else { preconditionFailure("the bus was released") }
        return bus
    }

    /// A generator for one task or thread, derived from the iteration's seed.
    public func makeRandom() -> SplitMix64 { generator.withLock { $0.split() } }

    /// A random integer in `range` from the iteration's generator.
    public func random(in range: ClosedRange<Int>) -> Int { generator.withLock { Int.random(in: range, using: &$0) } }

    /// A random element of `elements`.
    public func pick<Element>(_ elements: [Element]) -> Element { elements[random(in: 0...elements.count - 1)] }

    /// Randomized timing for the calling task (yields and short busy work, never sleeps).
    public func jitter() async {
        var random = makeRandom()
        await Jitter.async(&random)
    }

    /// Records something a scenario found wrong (reported with the watchdog's findings).
    public func fail(_ problem: String) { state.withLock { $0.problems.append(problem) } }

    // MARK: Shutdown

    /// Calls `bus.shutdown(deadline:)` with ``shutdownDeadline`` and records the call for the watchdog.
    @discardableResult
    public func shutdown() async -> ShutdownReport {
        let bus = self.bus
        recordIntrospection(of: bus)
        let started = ContinuousClock.now
        state.withLock { state in
            if state.firstShutdownStart == nil { state.firstShutdownStart = started }
        }
        shutdownStarted.fire()
        let report = await bus.shutdown(deadline: started + shutdownDeadline)
        let returned = ContinuousClock.now
        state.withLock { $0.calls.append(ShutdownCall(started: started, returned: returned, report: report)) }
        return report
    }

    /// Marks the start of a shutdown that a component drives itself (a bridge that shuts the bus
    /// down as its last step): arms the watchdog's shutdown timer and records the bus's threads as
    /// they are now, so every one of them must have exited when the scenario ends. Call
    /// ``shutdown()`` afterwards to collect the bus's report (shutdown is idempotent).
    ///
    /// `budget` is the time the component may take before the bus's own shutdown starts (a
    /// bridge's drain timeout); the watchdog adds it to the time it allows before a hang.
    public func beginShutdown(budget: Duration = .zero) {
        recordIntrospection(of: bus)
        state.withLock { state in
            state.firstShutdownStart = state.firstShutdownStart ?? .now
            state.componentBudget = max(state.componentBudget, budget)
        }
        shutdownStarted.fire()
    }

    /// Hands a task to the watchdog: it must end within the grace period after shutdown, and it is
    /// cancelled if the iteration fails (so a hung component does not outlive its iteration).
    public func watch(_ task: Task<Void, Never>) {
        state.withLock { $0.consumers.append(task) }
    }

    /// Drops the harness's reference to the bus on a dedicated thread, so its `deinit` runs the
    /// shutdown there (synchronously, as it would wherever an application lets go of the bus).
    /// Returns `false` if the release did not return within `deadline`.
    @discardableResult
    public func releaseBus(within deadline: Duration = .seconds(10)) async -> Bool {
        if let bus = busSlot.withLock({ $0 }) { recordIntrospection(of: bus) }
        let slot = busSlot
        let release = ThreadWork<Duration>(name: "suite-release") {
            let start = ContinuousClock.now
            var taken = slot.withLock { slot -> VirtualBus? in
                defer { slot = nil }
                return slot
            }
            taken = nil
            _ = taken
            return .now - start
        }
        state.withLock { $0.firstShutdownStart = $0.firstShutdownStart ?? .now }
        shutdownStarted.fire()
        guard let duration = await release.value(before: .now + deadline) else { return false }
        state.withLock { $0.releaseDuration = duration }
        return true
    }

    func recordIntrospection(of bus: VirtualBus) {
        let introspection = bus.introspection
        state.withLock { state in
            state.proxyThread = introspection.ownProxyThread
            if !introspection.serverThreads.isEmpty { state.serverThreads = introspection.serverThreads }
            state.context = introspection.context
            for thread in introspection.runLoopThreads {
                let key = ObjectIdentifier(thread)
                if state.firstShutdownStart == nil {
                    state.runLoopThreadsBefore[key] = thread
                } else if state.runLoopThreadsBefore[key] == nil {
                    state.runLoopThreadsDuring[key] = thread
                }
            }
        }
    }
}
