import Synchronization
import Testing
import TestSupport
@testable import VirtualBus

@Suite("Last-value cache: late subscribers get the latest value per topic", .timeLimit(.minutes(1)))
struct LastValueCacheTests {
    @Test("a late subscriber gets the latest value of every covered topic, nothing stale, nothing deleted")
    func lateSubscriber() async throws {
        let bus = try VirtualBus()
        let cache = try bus.makeLastValueCache()
        // Receives the live messages first: once it has them all, they have left the proxy and
        // cannot reach the late subscriber as live traffic still in flight.
        let early = try await bus.subscribe(to: ["state/", "other/"])
        try await waitUntil("the cache heard both prefixes of the early subscription") {
            cache.statistics.subscriptionsSeen == 2
        }
        try cache.publish(topic: "state/door", payload: Array("open".utf8))
        try cache.publish(topic: "state/door", payload: Array("closed".utf8))
        try cache.publish(topic: "state/lamp", payload: Array("on".utf8))
        try cache.publish(topic: "state/fan", payload: Array("off".utf8))
        try cache.publish(topic: "state/fan", payload: [])  // delete
        try cache.publish(topic: "other/x", payload: Array("not covered".utf8))
        _ = try await early.first(6)
        #expect(cache.statistics.topics == 3)

        let late = try await bus.subscribe(to: ["state/"])
        try await waitUntil("the replay to the new subscription") { cache.statistics.replayed >= 2 }
        #expect(cache.statistics.replayed == 2, "door and lamp; the deleted fan and other/x are not replayed")
        #expect(cache.statistics.subscriptionsSeen == 3)
        // Sent by the cache's thread after the replay, so it arrives after it.
        try cache.publish(topic: "state/marker", payload: Array("end".utf8))
        let received = try await late.first(3)
        #expect(
            Set(received.prefix(2).map { "\($0.topic)=\($0.payloadString)" }) == ["state/door=closed", "state/lamp=on"])
        #expect(received.last?.topic == "state/marker")
        #expect(await bus.shutdown().isComplete)
    }

    @Test("every late subscriber gets the value, also the second one with the same prefix")
    func samePrefixTwice() async throws {
        let bus = try VirtualBus()
        let cache = try bus.makeLastValueCache()
        try cache.publish(topic: "cfg/mode", payload: Array("eco".utf8))
        for _ in 0..<2 {
            let late = try await bus.subscribe(to: ["cfg/"])
            let value = try await late.first(1)
            #expect(value.first?.payloadString == "eco")
        }
        #expect(await bus.shutdown().isComplete)
    }

    @Test("current subscribers see updates and deletes live; a full cache still publishes and counts")
    func liveUpdatesAndCapacity() async throws {
        let bus = try VirtualBus()
        let cache = try bus.makeLastValueCache(capacity: 1)
        let live = try await bus.subscribe(to: ["s/"])
        try await waitUntil("the cache heard the subscription") { cache.statistics.subscriptionsSeen == 1 }
        try cache.publish(topic: "s/a", payload: Array("1".utf8))
        try cache.publish(topic: "s/b", payload: Array("2".utf8))  // beyond capacity: published, not kept
        try cache.publish(topic: "s/a", payload: [])
        let received = try await live.first(3)
        #expect(received.map(\.topic) == ["s/a", "s/b", "s/a"])
        #expect(received.last?.payload.isEmpty == true)
        #expect(cache.statistics.notKeptFull == 1)
        #expect(cache.statistics.topics == 0)
        #expect(await bus.shutdown().isComplete)
    }

    @Test("the bus's shutdown stops the cache; using it afterwards fails with shutDown; bad topics are refused")
    func shutdownAndBadInput() async throws {
        let bus = try VirtualBus()
        let cache = try bus.makeLastValueCache()
        #expect(throws: BusError.self) { try cache.publish(topic: "", payload: [1]) }
        try cache.publish(topic: "k", payload: [1])
        // A generous deadline: the point here is the cache's part in the order, and the whole suite
        // runs in parallel on two cores.
        let report = await bus.shutdown(deadline: .now + .seconds(30))
        #expect(report.isComplete)
        #expect { try cache.publish(topic: "k", payload: [2]) } throws: { ($0 as? BusError)?.code == .shutDown }
        #expect(throws: BusError.self) { try bus.makeLastValueCache() }
    }

    @Test("the observer hears every message before it is sent: updates, deletes and replays, as published")
    func observerHearsEverySend() async throws {
        let bus = try VirtualBus()
        let heard = Mutex<[String]>([])
        let cache = try bus.makeLastValueCache { sending in
            guard case .willSend(let topic, let payload) = sending else { return }
            heard.withLock { $0.append("\(topic)=\(String(decoding: payload, as: UTF8.self))") }
        }
        try cache.publish(topic: "cfg/mode", payload: Array("eco".utf8))
        try cache.publish(topic: "cfg/gone", payload: Array("x".utf8))
        try cache.publish(topic: "cfg/gone", payload: [])
        // The cache sends on its own thread: once the three updates are out, what a new
        // subscriber gets is a replay (subscribing earlier could catch a live update instead).
        try await waitUntil("the three updates sent") { heard.withLock { $0.count } == 3 }
        let late = try await bus.subscribe(to: ["cfg/"])
        let replay = try await late.first(1)
        // What a subscriber receives is what the observer was told, byte for byte: no tag in the topic.
        #expect(replay.map { "\($0.topic)=\($0.payloadString)" } == ["cfg/mode=eco"])
        #expect(heard.withLock { $0 } == ["cfg/mode=eco", "cfg/gone=x", "cfg/gone=", "cfg/mode=eco"])
        #expect(await bus.shutdown().isComplete)
    }
}
