import ConcurrencyPrimitives
import Testing
@testable import VirtualBus

/// The documented thread safety of ``BusPublisher``: one publisher, used by many threads and tasks
/// at once. `make sanitize-thread` runs this suite under ThreadSanitizer.
@Suite("One publisher shared by 8 threads and 8 tasks", .timeLimit(.minutes(2)))
struct SharedPublisherTests {
    private static let senders = 16
    private static let perSender = 1000

    @Test("every message arrives exactly once, each sender's in its order; the publisher counts them all")
    func sharedPublisher() async throws {
        let bus = try VirtualBus()
        // Room for everything: no sender ever waits for the consumer, so blocking threads and
        // tasks cannot starve it (the cooperative pool has as few threads as cores).
        let subscription = try await bus.subscribe(to: ["shared/"], bufferCapacity: Self.senders * Self.perSender)
        let publisher = try bus.makePublisher()
        let start = OneShotEvent()

        let threads = (0..<8).map { index in
            ThreadWork(name: "shared-publisher-\(index)") { () -> BusError? in
                // All senders start at once, so the publisher's lock is contended from the first message.
                guard start.waitBlocking(timeout: .seconds(30)) else { return BusError(.transport, "never started") }
                return Self.send(from: "thread\(index)", on: publisher)
            }
        }
        let tasks = (0..<8).map { index in
            Task { () -> BusError? in
                await start.wait()
                return Self.send(from: "task\(index)", on: publisher)
            }
        }
        start.fire()

        var received: [String: [Int]] = [:]
        for message in try await subscription.first(Self.senders * Self.perSender, within: .seconds(60)) {
            received[String(message.topic.dropFirst("shared/".count)), default: []].append(Int(message.payloadString)!)
        }
        for thread in threads { #expect(await thread.value(before: .now + .seconds(30)) == .some(nil)) }
        for task in tasks { #expect(await task.value == nil) }

        let expectedSenders = (0..<8).flatMap { ["thread\($0)", "task\($0)"] }
        #expect(Set(received.keys) == Set(expectedSenders))
        for sender in expectedSenders {
            #expect(received[sender] == Array(0..<Self.perSender), "\(sender): lost, duplicated or reordered")
        }
        #expect(publisher.statistics.published == Self.senders * Self.perSender)
        #expect(publisher.statistics.refused == 0 && publisher.statistics.dropped == 0)
        #expect(subscription.statistics.dropped == 0)
        #expect(await bus.shutdown().isComplete)
    }

    /// Publishes `perSender` numbered messages on `shared/<sender>`; the first error, if any.
    private static func send(from sender: String, on publisher: BusPublisher) -> BusError? {
        do throws(BusError) {
            for sequence in 0..<perSender { try publisher.publish(topic: "shared/\(sender)", payload: "\(sequence)") }
            return nil
        } catch {
            return error
        }
    }
}
