import ConcurrencyPrimitives
import VirtualBus

/// Scenarios where shutdown races other calls on the bus.
extension ShutdownScenario {
    /// Consumer tasks cancelled while shutdown runs.
    public static let consumerCancelled = ShutdownScenario(
        name: "consumer-cancelled",
        summary: "consumer tasks are cancelled concurrently with shutdown"
    ) { h in
        var consumers: [Task<Void, Never>] = []
        for _ in 0..<h.random(in: 1...3) {
            consumers.append(
                h.consume(try await h.subscribe(to: h.randomPrefixes(), bufferPolicy: h.randomBufferPolicy())))
        }
        let publisher = try h.makePublisher(policy: h.randomPolicy())
        _ = await h.burst(publisher, limit: h.random(in: 1...500)).value(before: .now + .seconds(10))
        await h.barrier()
        h.burst(publisher, limit: h.random(in: 0...2_000))
        async let cancelled: Void = {
            await h.jitter()
            for consumer in consumers { consumer.cancel() }
        }()
        await h.jitter()
        await h.shutdown()
        await cancelled
    }

    /// Subscriptions cancelled (their run loops retired) while shutdown runs.
    public static let cancelDuringShutdown = ShutdownScenario(
        name: "cancel-during-shutdown",
        summary: "subscriptions are cancelled concurrently with shutdown (run loops retiring mid-sequence)"
    ) { h in
        var subscriptions: [TrackedSubscription] = []
        for _ in 0..<h.random(in: 2...4) {
            let subscription = try await h.subscribe(to: h.randomPrefixes())
            h.consume(subscription)
            subscriptions.append(subscription)
        }
        let publisher = try h.makePublisher(policy: .failFast)
        _ = await h.burst(publisher, limit: h.random(in: 1...300)).value(before: .now + .seconds(10))
        await h.barrier()
        let cancelCount = h.random(in: 1...subscriptions.count)
        async let cancelled: Void = {
            for subscription in subscriptions.prefix(cancelCount) {
                await h.jitter()
                subscription.subscription.cancel()
            }
        }()
        await h.jitter()
        await h.shutdown()
        await cancelled
    }

    /// New subscriptions and publishers created while shutdown runs: each either fails with
    /// `shutDown` or returns one that shutdown finishes.
    public static let subscribeDuringShutdown = ShutdownScenario(
        name: "subscribe-during-shutdown",
        summary: "subscribe() and makePublisher() called concurrently with shutdown"
    ) { h in
        for _ in 0..<h.random(in: 0...2) { h.consume(try await h.subscribe(to: h.randomPrefixes())) }
        let racers = h.random(in: 1...4)
        async let subscribed: Void = withTaskGroup(of: Void.self) { group in
            for _ in 0..<racers {
                group.addTask {
                    await h.jitter()
                    if h.random(in: 0...2) == 0 {
                        // makePublisher waits for the proxy's handshake: a blocking call, so on a thread.
                        let outcome = await ThreadWork<BusError?>(name: "suite-racer") {
                            do throws(BusError) { _ = try h.makePublisher(policy: .failFast) } catch { return error }
                            return nil
                        }.value(before: .now + .seconds(10))
                        if case let error?? = outcome, error.code != .shutDown {
                            h.fail("makePublisher racing shutdown failed with \(error) instead of shutDown")
                        }
                        return
                    }
                    do {
                        h.consume(try await h.subscribe(to: h.randomPrefixes(), counted: false))
                    } catch {
                        // `shutDown` is expected when shutdown won the race; anything else is a bug.
                        if (error as? BusError)?.code != .shutDown {
                            h.fail("subscribe racing shutdown failed with \(error) instead of shutDown")
                        }
                    }
                }
            }
        }
        await h.jitter()
        await h.shutdown()
        await subscribed
    }

    /// A subscription handler calls shutdown itself (the self-join trap).
    public static let shutdownFromHandler = ShutdownScenario(
        name: "shutdown-from-handler",
        summary: "a subscription handler calls shutdown on the n-th message"
    ) { h in
        let trigger = h.random(in: 1...20)
        let seen = Counter()
        try await h.subscribe(to: ["t/", "u/"]) { _ in
            if seen.increment() == trigger { await h.shutdown() }
        }
        if h.random(in: 0...1) == 0 { h.consume(try await h.subscribe(to: h.randomPrefixes())) }
        h.burst(try h.makePublisher(policy: .failFast), limit: 5_000)
        if !(await h.awaitShutdownCalls(1, within: .seconds(10))) {
            h.fail("the handler never called shutdown (saw \(seen.value) of \(trigger) messages)")
            await h.shutdown()
        }
    }

    /// Many tasks call shutdown at once; all must get the report of the one sequence.
    public static func concurrentShutdown(_ callers: Int) -> ShutdownScenario {
        ShutdownScenario(
            name: "concurrent-shutdown-\(callers)",
            summary: "\(callers) tasks call shutdown concurrently; every caller gets the same complete report"
        ) { h in
            for _ in 0..<h.random(in: 1...3) { h.consume(try await h.subscribe(to: h.randomPrefixes())) }
            let burst = h.burst(try h.makePublisher(policy: h.randomPolicy()), limit: h.random(in: 0...2_000))
            if h.random(in: 0...1) == 0 {
                _ = await burst.value(before: .now + .seconds(10))
                await h.barrier()
            }
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<callers {
                    group.addTask {
                        await h.jitter()
                        await h.shutdown()
                    }
                }
            }
        }
    }
}
