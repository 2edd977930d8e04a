import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

@Suite("A subscription consumer stays on its actor", .timeLimit(.minutes(1)))
struct ConsumerIsolationTests {
    @Test("for try await in an actor takes buffered messages without hopping off and back per message")
    func noHopPerMessage() async throws {
        try await PrivateBroker.with { broker in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, .v5, "isolation")) { client in
                let subscription = try await client.subscribe(to: ["iso/#"])
                let count = 500
                for index in 0..<count {
                    _ = try await client.publish(
                        topic: MQTTTopic("iso/\(index % 4)"), payload: [UInt8(index % 256)], qos: .atMostOnce)
                }
                try await waitUntil("all \(count) messages buffered", within: .seconds(10)) {
                    subscription.bufferedCount == count
                }

                let consumer = IsolatedConsumer()
                let before = consumer.executor.jobs
                #expect(try await consumer.consume(subscription, count: count) == count)
                let hops = consumer.executor.jobs - before
                // One batch: entering the actor, and at most a few more. Leaving the actor for each
                // message (the standard library's default `next(isolation:)`) is a hop back per message.
                #expect(hops < 10, "\(hops) jobs on the consumer's actor for \(count) messages")
            }
        }
    }
}
