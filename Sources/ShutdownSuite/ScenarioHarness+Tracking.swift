package import ConcurrencyPrimitives
import Synchronization
public import VirtualBus

/// How a consumer task iterates its subscription.
public enum ConsumerStyle: Sendable {
    /// Iterates as fast as it can, with random yields.
    case drain
    /// Does random busy work after each message.
    case slow
    /// Stops iterating after this many messages without cancelling anything (the subscription
    /// stays alive, its buffer fills).
    case stopAfter(Int)
}

extension ScenarioHarness {
    /// Subscribes and tracks the subscription. `counted` subscriptions get exact accounting: they
    /// must be created before tracked publishers publish, and match only ``topics``.
    @discardableResult
    public func subscribe(
        to prefixes: [String],
        bufferCapacity: Int = 8192,
        bufferPolicy: BusSubscription.BufferPolicy = .backpressure,
        counted: Bool = true
    ) async throws(BusError) -> TrackedSubscription {
        let bus = self.bus
        let subscription = try await bus.subscribe(
            to: prefixes, bufferCapacity: bufferCapacity, bufferPolicy: bufferPolicy)
        recordIntrospection(of: bus)
        return track(subscription, prefixes: prefixes, counted: counted)
    }

    /// Subscribes in the handler form; the handler records each message, then runs `body`.
    @discardableResult
    public func subscribe(
        to prefixes: [String],
        bufferCapacity: Int = 8192,
        bufferPolicy: BusSubscription.BufferPolicy = .backpressure,
        counted: Bool = true,
        handler body: @escaping @Sendable (BusMessage) async -> Void
    ) async throws(BusError) -> TrackedSubscription {
        let bus = self.bus
        let tracked = Locked<TrackedSubscription?>(nil)
        let handle = try await bus.subscribe(to: prefixes, bufferCapacity: bufferCapacity, bufferPolicy: bufferPolicy) {
            message in
            tracked.value?.observe(message)
            await body(message)
        }
        recordIntrospection(of: bus)
        let subscription = track(handle.subscription, prefixes: prefixes, counted: counted)
        tracked.value = subscription
        // Cancelling this watcher (the watchdog does after a failure) cancels the handler too.
        let watcher = Task {
            await withTaskCancellationHandler {
                await handle.finished()
            } onCancel: {
                handle.cancel()
            }
        }
        state.withLock { $0.consumers.append(watcher) }
        return subscription
    }

    private func track(_ subscription: BusSubscription, prefixes: [String], counted: Bool) -> TrackedSubscription {
        state.withLock { state in
            let tracked = TrackedSubscription(
                subscription: subscription, prefixes: prefixes, isCounted: counted, position: state.subscriptions.count)
            state.subscriptions.append(tracked)
            return tracked
        }
    }

    /// Makes a tracked publisher with `policy`.
    public func makePublisher(policy: PublishPolicy? = nil) throws(BusError) -> TrackedPublisher {
        let publisher = try bus.makePublisher(policy: policy)
        return state.withLock { state in
            let tracked = TrackedPublisher(publisher: publisher, index: state.publishers.count) { [acceptedTotal] in
                acceptedTotal.increment()
            }
            state.publishers.append(tracked)
            return tracked
        }
    }

    /// Starts a consumer task over `subscription`; the watchdog checks that it ends after shutdown.
    @discardableResult
    public func consume(_ subscription: TrackedSubscription, style: ConsumerStyle = .drain) -> Task<Void, Never> {
        var random = makeRandom()
        let task = Task {
            var count = 0
            for await message in subscription.subscription {
                subscription.observe(message)
                count += 1
                switch style {
                case .drain:
                    if random.chance(0.05) { await Jitter.async(&random) }
                case .slow:
                    Jitter.spin(Int(random.next() % 5_000))
                    if random.chance(0.2) { await Task.yield() }
                case .stopAfter(let limit):
                    if count >= limit { return }
                }
            }
        }
        state.withLock { $0.consumers.append(task) }
        return task
    }

    /// Publishes on a dedicated thread (a `.block` publisher may wait at its high-water mark) until
    /// `limit` messages were attempted or the bus refuses with ``BusError/Code/shutDown``.
    @discardableResult
    package func burst(_ publisher: TrackedPublisher, limit: Int = .max) -> ThreadWork<Void> {
        let seed = makeRandom()
        let topics = self.topics
        let worker = ThreadWork<Void>(name: "suite-pub-\(publisher.index)") {
            var random = seed
            var attempts = 0
            while attempts < limit {
                attempts += 1
                do {
                    try publisher.publish(topic: topics[Int(random.next() % UInt64(topics.count))])
                } catch {
                    return
                }
                if random.chance(0.02) { Jitter.thread(&random) }
            }
        }
        state.withLock { $0.workers.append(worker) }
        return worker
    }

    /// Publishes `count` messages from the calling task (for policies that never wait).
    public func publish(_ count: Int, with publisher: TrackedPublisher) throws(BusError) {
        for _ in 0..<count { try publisher.publish(topic: pick(topics)) }
    }

    /// Waits until every counted subscription whose consumer keeps up (or whose policy drops) has
    /// taken in every matching message accepted so far, then records those totals as confirmed:
    /// after shutdown each must be delivered or counted as dropped. Fails the iteration if the
    /// messages do not arrive within `limit`.
    public func barrier(excluding excluded: [TrackedSubscription] = [], within limit: Duration = .seconds(10)) async {
        let accepted = acceptedTotal.value
        let (subscriptions, publishers) = state.withLock { ($0.subscriptions, $0.publishers) }
        let deadline = ContinuousClock.now + limit
        for subscription in subscriptions
        where subscription.isCounted && !excluded.contains(where: { $0 === subscription }) {
            let expected = Self.expected(for: subscription, publishers: publishers)
            while subscription.reached < expected {
                if ContinuousClock.now >= deadline {
                    fail(
                        """
                        barrier: subscription \(subscription.position) took in \(subscription.reached) of \
                        \(expected) messages accepted before shutdown within \(limit)
                        """
                    )
                    return
                }
                await Task.yield()
                try? await Task.sleep(for: .microseconds(200))
            }
            subscription.confirmed = expected
        }
        state.withLock { $0.acceptedAtBarrier = accepted }
    }

    static func expected(for subscription: TrackedSubscription, publishers: [TrackedPublisher]) -> Int {
        publishers.reduce(0) { total, publisher in
            total + publisher.accepted.reduce(0) { $0 + (subscription.matches($1.key) ? $1.value : 0) }
        }
    }
}

extension ScenarioHarness {
    /// Waits until tracked publishers have accepted `count` more messages than now, so a shutdown
    /// that follows lands mid-burst. Bounded: gives up after `limit` (the burst may be refused).
    public func awaitProgress(_ count: Int, within limit: Duration = .seconds(5)) async {
        let target = acceptedTotal.value + count
        let deadline = ContinuousClock.now + limit
        while acceptedTotal.value < target, ContinuousClock.now < deadline {
            await Task.yield()
            try? await Task.sleep(for: .microseconds(100))
        }
    }

    /// Waits until `count` shutdown calls have returned; `false` after `limit`.
    public func awaitShutdownCalls(_ count: Int, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while state.withLock({ $0.calls.count }) < count {
            if ContinuousClock.now >= deadline { return false }
            await Task.yield()
            try? await Task.sleep(for: .microseconds(200))
        }
        return true
    }

    /// A random publish policy: wait briefly, fail fast, or drop and count.
    public func randomPolicy() -> PublishPolicy {
        pick([.block(timeout: .milliseconds(200)), .failFast, .drop])
    }

    /// A random subscription buffer policy.
    public func randomBufferPolicy() -> BusSubscription.BufferPolicy {
        pick([.backpressure, .dropOldest, .dropNewest])
    }

    /// A random prefix set over ``topics`` (the empty prefix included).
    public func randomPrefixes() -> [String] {
        pick([[""], ["t/"], ["t/a"], ["u/"], ["t/b", "u/c"]])
    }
}
