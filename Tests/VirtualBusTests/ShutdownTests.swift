import ConcurrencyPrimitives
import Logging
import ServiceLifecycle
import Testing
import TestSupport
@testable import VirtualBus
import ZeroMQ

@Suite("Ordered, bounded, idempotent shutdown", .timeLimit(.minutes(1)))
struct ShutdownTests {
    @Test("shutdown runs every phase in order and ends every thread and the context")
    func orderedPhases() async throws {
        let bus = try VirtualBus()
        var subscriptions: [BusSubscription] = []
        for _ in 0..<4 { subscriptions.append(try await bus.subscribe(to: [""])) }
        let publisher = try bus.makePublisher()
        try publisher.publish(topic: "t", payload: "x")
        let threads = bus.introspection.runLoopThreads
        let report = try await withDeadline(.seconds(10), "shutdown") { await bus.shutdown() }
        #expect(report.isComplete, "\(report)")
        #expect(report.phases.map(\.name) == ShutdownReport.PhaseName.allCases)
        #expect(report.subscriptionsStopped == 4)
        #expect(threads.allSatisfy { $0.exited.hasFired })
        #expect(bus.introspection.proxyThread.exited.hasFired)
        #expect(bus.context.isTerminated)
        for subscription in subscriptions { #expect(subscription.isFinished) }
    }

    @Test("a for-await loop over a subscription ends normally when the bus shuts down")
    func forAwaitEnds() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["x/"])
        let consumer = Task {
            var count = 0
            for await _ in subscription { count += 1 }
            return count
        }
        let publisher = try bus.makePublisher()
        try publisher.publish(topic: "x/1", payload: "a")
        try await waitUntil("message delivered") { subscription.statistics.delivered == 1 }
        await bus.shutdown()
        let count = try await withDeadline(.seconds(5), "consumer end") { await consumer.value }
        #expect(count == 1)
    }

    @Test("shutdown called from inside a subscriber's own handler completes (no self-join)")
    func shutdownFromHandler() async throws {
        let bus = try VirtualBus()
        let (reports, continuation) = AsyncStream.makeStream(of: ShutdownReport.self)
        try await bus.subscribe(to: ["stop"]) { _ in
            continuation.yield(await bus.shutdown())
        }
        try bus.makePublisher().publish(topic: "stop", payload: "now")
        let report = try #require(try await reports.first(1).first)
        #expect(report.isComplete, "\(report)")
        #expect(bus.isShutDown)
    }

    @Test("two and ten concurrent shutdown calls all get the one complete report", arguments: [2, 10])
    func concurrentShutdown(callers: Int) async throws {
        let bus = try VirtualBus()
        for _ in 0..<3 { _ = try await bus.subscribe(to: [""]) { _ in } }
        let reports = try await withDeadline(.seconds(10), "concurrent shutdown") {
            await withTaskGroup(of: ShutdownReport.self) { group in
                for _ in 0..<callers { group.addTask { await bus.shutdown() } }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(reports.count == callers)
        #expect(reports.allSatisfy { $0.isComplete })
        #expect(Set(reports.map(\.duration)).count == 1, "every caller sees the same sequence")
        #expect(await bus.shutdown().isComplete, "idempotent afterwards")
    }

    @Test("after shutdown, publishing, subscribing and making publishers throw shutDown")
    func useAfterShutdown() async throws {
        let bus = try VirtualBus()
        let publisher = try bus.makePublisher()
        await bus.shutdown()
        #expect(throws: BusError.shutDown) { try publisher.publish(topic: "a", payload: "b") }
        #expect(throws: BusError.shutDown) { try bus.makePublisher() }
        await #expect(throws: BusError.shutDown) { try await bus.subscribe(to: ["a"]) }
        #expect(throws: BusError.shutDown) { try bus.pause() }
        #expect(throws: BusError.shutDown) { try bus.statistics() }
    }

    @Test("shutdown completes while the proxy is paused and while publishers are mid-burst")
    func shutdownUnderLoadAndPause() async throws {
        let bus = try VirtualBus()
        _ = try await bus.subscribe(to: [""], bufferCapacity: 16)
        let publisher = try bus.makePublisher(policy: .drop)
        async let burst = onDedicatedThread {
            var sent = 0
            while (try? publisher.publish(topic: "burst", payload: "x")) != nil { sent += 1 }
            return sent
        }
        try await waitUntil("burst under way") { publisher.statistics.published > 100 }
        try bus.pause()
        let report = try await withDeadline(.seconds(10), "shutdown") { await bus.shutdown() }
        #expect(report.isComplete, "\(report)")
        #expect(try await burst > 100)
    }

    @Test("a consumer that stopped iterating (buffer full, backpressure) does not block shutdown")
    func stalledConsumer() async throws {
        var configuration = BusConfiguration()
        configuration.highWaterMark = 8
        let bus = try VirtualBus(configuration: configuration)
        let subscription = try await bus.subscribe(to: [""], bufferCapacity: 4)
        let publisher = try bus.makePublisher(policy: .failFast)
        // Fill every queue between the publisher and the never-read subscription.
        var accepted = 0
        for _ in 0..<100_000 {
            guard try publisher.tryPublish(topic: "fill", payload: "x") else { break }
            accepted += 1
        }
        #expect(accepted < 100_000, "the high-water marks must stop the publisher")
        let report = try await withDeadline(.seconds(10), "shutdown") { await bus.shutdown() }
        #expect(report.isComplete, "\(report)")
        #expect(subscription.statistics.delivered == 0)
    }

    @Test("a bus released without shutdown shuts itself down and leaves no thread behind")
    func releasedWithoutShutdown() async throws {
        var threads: [DedicatedThread] = []
        var context: ZMQContext?
        do {
            let bus = try VirtualBus()
            let subscription = try await bus.subscribe(to: [""])
            try bus.makePublisher().publish(topic: "a", payload: "b")
            _ = try await subscription.first(1)
            threads = [bus.introspection.proxyThread] + bus.introspection.runLoopThreads
            context = bus.context
        }
        #expect(threads.count == 2)
        #expect(threads.allSatisfy { $0.exited.hasFired })
        #expect(context?.isTerminated == true)
    }

    @Test("as a Service in a ServiceGroup, graceful shutdown runs the ordered shutdown")
    func serviceLifecycle() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: [""])
        let group = ServiceGroup(services: [bus], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        await group.triggerGracefulShutdown()
        try await withDeadline(.seconds(10), "service group ends") { try await running.value }
        #expect(bus.isShutDown)
        #expect(subscription.isFinished)
    }

    @Test("cancelling the consumer's task ends its iteration")
    func consumerCancelled() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: [""])
        let consumer = Task { for await _ in subscription {} }
        consumer.cancel()
        try await withDeadline(.seconds(5), "cancelled consumer") { await consumer.value }
        #expect(await bus.shutdown().isComplete)
    }
}
