import Testing
@testable import VirtualBus
import ZeroMQ

@Suite("Bad input is refused with a clear error or counted and dropped", .timeLimit(.minutes(1)))
struct BadInputTests {
    @Test("invalid topics and prefixes are refused with invalidTopic", arguments: ["", "a\u{0}b"])
    func invalidTopics(topic: String) async throws {
        let bus = try VirtualBus()
        let publisher = try bus.makePublisher()
        #expect { try publisher.publish(topic: topic, payload: "x") } throws: {
            ($0 as? BusError)?.code == .invalidTopic
        }
        if !topic.isEmpty {
            await #expect { try await bus.subscribe(to: [topic]) } throws: { ($0 as? BusError)?.code == .invalidTopic }
        }
        await bus.shutdown()
    }

    @Test("a publisher checks every new topic: an invalid one after valid ones, or repeated, is refused each time")
    func topicsCheckedAfterValidOnes() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["t/"])
        let publisher = try bus.makePublisher()
        // The publisher remembers its last valid topic; nothing invalid may pass as a repeat of it.
        for topic in ["t/a", "", "t/a", "a\u{0}b", "a\u{0}b", "t/b", "", "t/b"] {
            if topic == "" || topic.utf8.contains(0) {
                #expect { try publisher.publish(topic: topic, payload: "x") } throws: {
                    ($0 as? BusError)?.code == .invalidTopic
                }
            } else {
                try publisher.publish(topic: topic, payload: "x")
            }
        }
        #expect(try await subscription.first(4).map(\.topic) == ["t/a", "t/a", "t/b", "t/b"])
        #expect(publisher.statistics.published == 4)
        await bus.shutdown()
    }

    @Test("a payload over the maximum size is refused by publishers")
    func oversizedPublish() async throws {
        var configuration = BusConfiguration()
        configuration.maximumMessageSize = 16
        let bus = try VirtualBus(configuration: configuration)
        let publisher = try bus.makePublisher()
        #expect { try publisher.publish(topic: "t", payload: [UInt8](repeating: 1, count: 17)) } throws: {
            ($0 as? BusError)?.code == .messageTooLarge
        }
        await bus.shutdown()
    }

    @Test(
        "foreign one-frame, three-frame, oversized, empty-topic and non-UTF-8 messages over tcp are counted and dropped"
    )
    func foreignMalformedOverTCP() async throws {
        var configuration = BusConfiguration()
        configuration.frontendBinds = [.tcp(port: nil)]
        configuration.maximumMessageSize = 64
        let bus = try VirtualBus(configuration: configuration)
        let subscription = try await bus.subscribe(to: [""])
        let foreign = try ForeignPublisher(endpoint: bus.endpoints.frontend[1])
        try foreign.send([Array("one-frame".utf8)])
        try foreign.send([Array("t".utf8), [1], [2]])
        try foreign.send([Array("big".utf8), [UInt8](repeating: 7, count: 65)])
        try foreign.send([[0xff, 0xfe], [1]])
        try foreign.send([[], [1]])
        try foreign.send([Array("ok".utf8), Array("fine".utf8)])
        let received = try await subscription.first(1)
        #expect(received == [BusMessage(topic: "ok", payload: Array("fine".utf8))])
        let statistics = subscription.statistics
        #expect(statistics.droppedMalformed == 2)
        #expect(statistics.droppedOversized == 1)
        #expect(statistics.droppedInvalidTopic == 2)
        foreign.close()
        #expect(await bus.shutdown().isComplete)
    }

    @Test(
        "malformed endpoints are refused, naming the endpoint",
        arguments: ["foo://x", "tcp://127.0.0.1:notaport", "inproc://", "nowhere"])
    func badEndpoint(url: String) {
        #expect { try BusEndpoint(parsing: url) } throws: { ($0 as? BusError)?.endpoint == url }
    }

    @Test("an endpoint already in use fails at start with an error naming it")
    func addressInUse() async throws {
        var configuration = BusConfiguration()
        configuration.backendBinds = [.tcp(port: nil)]
        let first = try VirtualBus(configuration: configuration)
        let taken = first.endpoints.backend[1]
        configuration.backendBinds = [try BusEndpoint(parsing: taken)]
        #expect { try VirtualBus(configuration: configuration) } throws: { error in
            let error = error as? BusError
            return error?.code == .addressInUse && error?.endpoint == taken && error!.description.contains(taken)
        }
        await first.shutdown()
    }

    @Test("an unreachable ipc path fails at start naming the endpoint")
    func badIPCPath() {
        var configuration = BusConfiguration()
        configuration.frontendBinds = [.ipc("/nonexistent-dir-for-vbus/socket")]
        #expect { try VirtualBus(configuration: configuration) } throws: { error in
            (error as? BusError)?.endpoint == "ipc:///nonexistent-dir-for-vbus/socket"
        }
    }

    @Test("invalid configuration values are refused")
    func invalidConfiguration() {
        var configuration = BusConfiguration()
        configuration.highWaterMark = 0
        #expect { try VirtualBus(configuration: configuration) } throws: {
            ($0 as? BusError)?.code == .invalidConfiguration
        }
    }

    @Test("pause and resume steer the proxy; statistics count both sides")
    func pauseResumeStatistics() async throws {
        let bus = try VirtualBus()
        let subscription = try await bus.subscribe(to: ["s"])
        let publisher = try bus.makePublisher()
        try bus.pause()
        try publisher.publish(topic: "s", payload: "while paused")
        try bus.resume()
        #expect(try await subscription.first(1).map(\.payloadString) == ["while paused"])
        let statistics = try bus.statistics()
        #expect(statistics.backendSent.messages >= 1)
        #expect(statistics.backendReceived.messages >= 1, "subscriptions travel upstream")
        await bus.shutdown()
    }
}

/// A ZeroMQ peer outside the bus's API, sending whatever frames a test wants. It is an XPUB so it can
/// wait for the proxy's subscription before sending (a plain PUB could drop the first messages).
final class ForeignPublisher: @unchecked Sendable {
    // @unchecked: used from one test task only, sequentially.
    private let context: ZMQContext
    private var socket: ZMQSocket

    /// Connects from a context of its own, as a peer in another process would.
    init(endpoint: String) throws {
        context = try ZMQContext()
        socket = try ZMQSocket(context, type: .xpub)
        try socket.setReceiveTimeout(milliseconds: 5000)
        try socket.connect(endpoint)
        while let frames = try socket.receiveFrames(), frames != [[1]] {}
    }

    func send(_ frames: [[UInt8]]) throws {
        _ = try socket.send(frames: frames)
    }

    func close() {
        socket.close(lingerMilliseconds: 1000)
        try? context.terminate()
    }
}
