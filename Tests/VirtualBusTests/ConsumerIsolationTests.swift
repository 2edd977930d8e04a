import Testing
import TestSupport
@testable import VirtualBus

@Suite("A consumer stays on its actor", .timeLimit(.minutes(1)))
struct ConsumerIsolationTests {
    @Test("for await in an actor takes buffered messages without hopping off and back per message")
    func noHopPerMessage() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["iso/"])
        let publisher = try bus.makePublisher()
        let count = 1_000
        for index in 0..<count { try publisher.publish(topic: "iso/\(index % 4)", payload: "\(index)") }
        try await waitUntil("all \(count) messages buffered") { subscription.statistics.buffered == count }

        let consumer = IsolatedConsumer()
        let before = consumer.executor.jobs
        #expect(try await consumer.consume(subscription, count: count) == count)
        let hops = consumer.executor.jobs - before
        // One batch: entering the actor, and at most a few more. Leaving the actor to take each
        // message (the standard library's default `next(isolation:)`) costs one hop back per message.
        #expect(hops < 10, "\(hops) jobs on the consumer's actor for \(count) messages")
        #expect(await bus.shutdown().isComplete)
    }
}
