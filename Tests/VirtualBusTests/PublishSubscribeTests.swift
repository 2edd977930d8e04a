import Testing
import TestSupport
@testable import VirtualBus

@Suite("Publish and subscribe on a real libzmq bus", .timeLimit(.minutes(1)))
struct PublishSubscribeTests {
    @Test("a message published after subscribe returns arrives with its topic and payload")
    func roundTrip() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["sensors/"])
        let publisher = try bus.makePublisher()
        try publisher.publish(topic: "sensors/temp", payload: "21.5")
        try publisher.publish(topic: "sensors/raw", payload: [0, 1, 2, 255])
        let messages = try await subscription.first(2)
        #expect(
            messages == [
                BusMessage(topic: "sensors/temp", payload: Array("21.5".utf8)),
                BusMessage(topic: "sensors/raw", payload: [0, 1, 2, 255]),
            ])
        #expect(await bus.shutdown().isComplete)
    }

    @Test("prefix filters deliver only matching topics; the empty prefix matches everything")
    func prefixFilters() async throws {
        let bus = try VirtualBus()
        let sensors = try await bus.subscribe(to: ["sensors/", "cmd/"])
        let everything = try await bus.subscribe(to: [""])
        let publisher = try bus.makePublisher()
        for topic in ["sensors/a", "status/x", "cmd/go", "sensorsX", "end"] {
            try publisher.publish(topic: topic, payload: topic)
        }
        #expect(try await sensors.first(2).map(\.topic) == ["sensors/a", "cmd/go"])
        #expect(try await everything.first(5).map(\.topic) == ["sensors/a", "status/x", "cmd/go", "sensorsX", "end"])
        await bus.shutdown()
    }

    @Test("publishers on many threads and tasks reach many subscribers, in order per publisher")
    func manyPublishersManySubscribers() async throws {
        let bus = try VirtualBus()
        var subscriptions: [BusSubscription] = []
        for _ in 0..<8 { subscriptions.append(try await bus.subscribe(to: ["load/"])) }
        let perPublisher = 500
        let publishers = 4
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<publishers {
                let publisher = try bus.makePublisher()
                group.addTask {
                    for sequence in 0..<perPublisher {
                        try publisher.publish(topic: "load/\(index)", payload: "\(sequence)")
                    }
                }
            }
            try await group.waitForAll()
        }
        for subscription in subscriptions {
            let messages = try await subscription.first(perPublisher * publishers)
            #expect(messages.count == perPublisher * publishers)
            for index in 0..<publishers {
                let sequence = messages.filter { $0.topic == "load/\(index)" }.map { Int($0.payloadString)! }
                #expect(sequence == Array(0..<perPublisher))
            }
        }
        let statistics = try bus.statistics()
        #expect(statistics.frontendReceived.messages >= UInt64(perPublisher * publishers))
        await bus.shutdown()
    }

    @Test("late joiner: subscribe, then publish at once — nothing is lost (1,000 times)")
    func lateJoiner() async throws {
        let bus = try VirtualBus()
        let publisher = try bus.makePublisher()
        for round in 0..<1000 {
            let subscription = try await bus.subscribe(to: ["late/\(round)"])
            try publisher.publish(topic: "late/\(round)", payload: "hello")
            let received = try await subscription.first(1, within: .seconds(5))
            #expect(received.first?.topic == "late/\(round)")
            subscription.cancel()
        }
        await bus.shutdown()
    }

    @Test("a publisher made after the subscription loses nothing either (fresh publisher each time)")
    func freshPublisher() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["fresh/"])
        for round in 0..<200 {
            let publisher = try bus.makePublisher()
            try publisher.publish(topic: "fresh/\(round)", payload: [UInt8(round & 0xff)])
        }
        // Separate publishers have separate pipes: ZeroMQ orders messages per publisher only.
        let topics = try await subscription.first(200).map(\.topic)
        #expect(Set(topics) == Set((0..<200).map { "fresh/\($0)" }))
        await bus.shutdown()
    }

    @Test("messages published just before a publisher is released still arrive")
    func releasedPublisherDelivers() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["r/"])
        for round in 0..<20 {
            let publisher = try bus.makePublisher()
            for index in 0..<500 { try publisher.publish(topic: "r/\(round)", payload: "\(index)") }
            publisher.close()
        }
        #expect(try await subscription.first(10_000).count == 10_000)
        await bus.shutdown()
    }

    @Test("the handler form runs the handler for each message")
    func handlerForm() async throws {
        let bus = try VirtualBus()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        try await bus.subscribe(to: ["h/"]) { message in continuation.yield(message.topic) }
        let publisher = try bus.makePublisher()
        try publisher.publish(topic: "h/1", payload: "x")
        try publisher.publish(topic: "h/2", payload: "y")
        #expect(try await stream.first(2) == ["h/1", "h/2"])
        await bus.shutdown()
    }

    @Test("Data, String and [UInt8] payload overloads carry the same bytes")
    func payloadOverloads() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["p"])
        let publisher = try bus.makePublisher()
        try publisher.publish(topic: "p1", payload: "abc")
        try publisher.publish(topic: "p2", payload: Array("abc".utf8))
        try publisher.publish(topic: "p3", payload: BusMessage(topic: "x", payload: Array("abc".utf8)).payloadData)
        try publisher.publish(BusMessage(topic: "p4", payload: Array("abc".utf8)))
        let payloads = try await subscription.first(4).map(\.payloadString)
        #expect(payloads == ["abc", "abc", "abc", "abc"])
        await bus.shutdown()
    }
}
