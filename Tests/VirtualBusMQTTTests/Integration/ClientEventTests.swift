import BrokerLauncher
import ConcurrencyPrimitives
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// `MQTTClient.events()` against a real mosquitto: what a terminal or a log needs to say a fault
/// out loud (a broker that is not there, one that goes away and comes back, a queue that drops).
@Suite("Client events", .timeLimit(.minutes(2)))
struct ClientEventTests {
    /// Collects a client's events as they come.
    final class Recorder: Sendable {
        private let recorded = Locked<[MQTTClientEvent]>([])
        private let done: Task<Void, Never>

        init(_ client: MQTTClient) {
            let events = client.events()
            let recorded = self.recorded
            done = Task { for await event in events { recorded.withLock { $0.append(event) } } }
        }

        var events: [MQTTClientEvent] { recorded.withLock { $0 } }

        func waitFor(_ what: String, _ matches: @escaping (MQTTClientEvent) -> Bool) async throws -> MQTTClientEvent {
            try await waitUntil("\(what) (events so far: \(events))", within: .seconds(20)) {
                events.contains(where: matches)
            }
            return events.last(where: matches)!
        }

        /// The stream ends when the client ends.
        func ended() async { await done.value }
    }

    static func reconnecting(_ configuration: MQTTClientConfiguration, attempts: Int? = nil) -> MQTTClientConfiguration
    {
        var configuration = configuration
        configuration.reconnect = MQTTReconnectPolicy(
            initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200), maximumAttempts: attempts)
        return configuration
    }

    @Test(
        "connected, lost with the delay before the next try, reconnected after the downtime with the session resumed",
        arguments: bothVersions)
    func restart(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with(persistence: true) { broker in
            let client = MQTTClient(configuration: Self.reconnecting(testConfiguration(broker, version, "events")))
            let recorder = Recorder(client)
            let running = try await startClient(client)
            // The session-reset connection before it is not an event: it is not a connection the
            // application can use.
            _ = try await recorder.waitFor("the first connection") { if case .connected = $0 { true } else { false } }
            #expect(recorder.events == [.connected(sessionPresent: false, downtime: nil, resent: 0)])
            broker.kill(graceful: true)
            let lost = try await recorder.waitFor("the lost connection") {
                if case .connectionLost = $0 { true } else { false }
            }
            guard case .connectionLost(_, let retryIn) = lost else { return }
            #expect(retryIn != nil)
            try await broker.start()
            let back = try await recorder.waitFor("the reconnect") {
                if case .connected(_, .some, _) = $0 { true } else { false }
            }
            guard case .connected(let sessionPresent, let downtime, _) = back else { return }
            #expect(sessionPresent, "mosquitto saved the session: the reconnect resumes it")
            #expect(downtime.map { $0 > .zero } == true)
            client.shutdown()
            try await running.value
            await recorder.ended()
        }
    }

    @Test(
        """
        no broker: each failed attempt names the address and the reason; the last says it gives up, and run() \
        throws it
        """
    )
    func noBroker() async throws {
        let nobody = try RefusingPort()
        defer { nobody.release() }
        let port = nobody.port
        let configuration = Self.reconnecting(
            MQTTClientConfiguration(host: "127.0.0.1", port: port, clientID: "nobody"), attempts: 2)
        let client = MQTTClient(configuration: configuration)
        let recorder = Recorder(client)
        await #expect(throws: MQTTError.self) { try await client.run() }
        await recorder.ended()
        let failures = recorder.events.compactMap {
            if case .connectFailed(let error, let retryIn) = $0 { (error, retryIn) } else { nil }
        }
        #expect(failures.count == 3, "two retries, then giving up: \(recorder.events)")
        #expect(failures.allSatisfy { $0.0.message == "cannot connect to 127.0.0.1:\(port): connection refused" })
        #expect(failures.map { $0.1 == nil } == [false, false, true])
    }

    @Test(
        "a full publish queue that drops says so once, at the first drop",
        arguments: [MQTTQueuePolicy.dropOldest, .dropNewest])
    func overflow(policy: MQTTQueuePolicy) async throws {
        let nobody = try RefusingPort()
        defer { nobody.release() }
        let port = nobody.port
        var configuration = Self.reconnecting(
            MQTTClientConfiguration(host: "127.0.0.1", port: port, clientID: "overflowing"))
        configuration.publishQueueCapacity = 2
        configuration.publishQueuePolicy = policy
        let client = MQTTClient(configuration: configuration)
        let recorder = Recorder(client)
        let running = Task { try await client.run() }
        // Not connected: publishes wait in the queue; the third and later overflow it.
        let topic: MQTTTopic = "t"
        var tickets: [MQTTPublishTicket] = []
        var dropped = 0
        for _ in 0..<5 {
            do { tickets.append(try client.tryPublish(topic: topic, payload: [1], qos: .atLeastOnce)) } catch {
                #expect(error.code == .droppedByPolicy)  // drop newest: this very publish
                dropped += 1
            }
        }
        _ = try await recorder.waitFor("the overflow") { if case .publishQueueOverflow = $0 { true } else { false } }
        #expect(
            recorder.events.filter { if case .publishQueueOverflow = $0 { true } else { false } } == [
                .publishQueueOverflow(capacity: 2, dropped: 1)
            ])
        client.shutdown()
        for ticket in tickets {
            do { _ = try await ticket.result() } catch { if error.code == .droppedByPolicy { dropped += 1 } }
        }
        #expect(dropped == 3)
        _ = try? await running.value
    }
}
