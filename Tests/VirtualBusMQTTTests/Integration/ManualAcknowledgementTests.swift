import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// `acknowledgement: .manual` against a real mosquitto: the broker's PUBACK / PUBREC waits for
/// `MQTTMessage.acknowledge()`, and an unacknowledged message survives a lost connection.
@Suite("Manual acknowledgement (mosquitto)", .timeLimit(.minutes(1)))
struct ManualAcknowledgementTests {
    static let cases: [(MQTTProtocolVersion, MQTTQoS)] = [
        (.v3_1_1, .atLeastOnce), (.v3_1_1, .exactlyOnce),
        (.v5, .atLeastOnce), (.v5, .exactlyOnce),
    ]

    @Test(
        """
        not acknowledged when the connection drops: QoS 1 redelivered with DUP, QoS 2 merged into the held copy; \
        acknowledged: never again
        """,
        arguments: cases)
    func redeliveredUntilAcknowledged(version: MQTTProtocolVersion, qos: MQTTQoS) async throws {
        try await withPersistentSubscriber(version, "manual-sub") { broker, proxy, subscriber in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "manual-pub")) {
                publisher in
                let sub = try await subscriber.subscribe(
                    to: ["manual/t"], options: .init(qos: qos), acknowledgement: .manual)
                try await publisher.publish(topic: "manual/t", payload: [1], qos: qos)
                let first = try #require(try await next(sub, "first delivery"))
                #expect(first.payload == [1] && first.requiresAcknowledgement && !first.isDuplicate)

                // Not acknowledged: the broker still owns it and resends it on the resumed session.
                let cut = cutConnection(subscriber, proxy)
                if qos == .atLeastOnce {
                    let again = try #require(try await next(sub, "redelivery"))
                    #expect(again.payload == [1] && again.isDuplicate, "[MQTT-4.4.0-1] resent with DUP")
                    first.acknowledge()  // the old connection's copy: nothing is sent for it
                    again.acknowledge()
                } else {
                    // QoS 2: the resend is the same packet identifier, merged into the copy we hold.
                    try await reconnected(subscriber, after: cut)
                    // mosquitto resends right after CONNACK, so once it answers this the resend is in.
                    try await subscriber.publish(topic: "manual/other", payload: [], qos: .atLeastOnce)
                    first.acknowledge()  // PUBREC on the new connection
                }
                #expect(subscriber.core.state.withLock { $0.machine.inboundPending.isEmpty })

                // Acknowledged: another lost connection brings back only what is published after it.
                if qos == .exactlyOnce {
                    // PUBREL answered with PUBCOMP: the QoS 2 flow is complete on the broker too.
                    try await waitUntil("PUBREL", within: .seconds(10)) {
                        subscriber.core.state.withLock { $0.machine.inboundQoS2.isEmpty }
                    }
                }
                // A round trip on the same connection: the broker handles packets in order, so once
                // it answers this, it has our acknowledgement.
                try await subscriber.publish(topic: "manual/other", payload: [], qos: .atLeastOnce)
                try await reconnected(subscriber, after: cutConnection(subscriber, proxy))
                try await publisher.publish(topic: "manual/t", payload: [2], qos: qos)
                let next = try #require(try await next(sub, "next message"))
                #expect(next.payload == [2], "an acknowledged message was delivered again")
                next.acknowledge()
            }
        }
    }

    @Test(
        """
        not acknowledged when the process ends: the next client of the session gets it with DUP, subscribing \
        after CONNACK
        """,
        arguments: cases)
    func redeliveredToTheNextProcess(version: MQTTProtocolVersion, qos: MQTTQoS) async throws {
        try await PrivateBroker.with { broker in
            var config = testConfiguration(broker, version, "manual-restart")
            config.cleanStart = false
            config.sessionExpiry = 300
            let first = MQTTClient(configuration: config)
            let firstTask = try await startClient(first)
            let sub = try await first.subscribe(to: ["manual/r"], options: .init(qos: qos), acknowledgement: .manual)
            _ = try await MQTTClient.withConnection(
                configuration: testConfiguration(broker, version, "manual-restart-pub")
            ) { publisher in
                _ = try await publisher.publish(topic: "manual/r", payload: [7], qos: qos)
            }
            let original = try #require(try await next(sub, "first delivery"))
            #expect(!original.isDuplicate)
            first.shutdown()  // the "process" ends before accepting the message
            try await firstTask.value

            // The next process subscribes only once connected: the broker's resend right after
            // CONNACK is held for it (unroutedMessageGrace) instead of being dropped as unrouted.
            let second = MQTTClient(configuration: config)
            let secondTask = try await startClient(second)
            let resumed = try await second.subscribe(
                to: ["manual/r"], options: .init(qos: qos), acknowledgement: .manual)
            let again = try #require(try await next(resumed, "redelivery to the next process"))
            #expect(again.payload == [7] && again.isDuplicate && again.requiresAcknowledgement)
            again.acknowledge()
            second.shutdown()
            try await secondTask.value
        }
    }

    @Test(
        "a manual subscription ended with messages unseen in its buffer: they come back on the resumed session",
        arguments: cases)
    func cancelledSubscriptionGivesBackUnseen(version: MQTTProtocolVersion, qos: MQTTQoS) async throws {
        try await withPersistentSubscriber(version, "manual-cancel") { broker, proxy, subscriber in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "manual-cancel-pub"))
            { publisher in
                let sub = try await subscriber.subscribe(
                    to: ["manual/c"], options: .init(qos: qos), acknowledgement: .manual)
                try await publisher.publish(topic: "manual/c", payload: [5], qos: qos)
                try await waitUntil("buffered", within: .seconds(10)) { sub.bufferedCount == 1 }
                sub.cancel()  // never seen by the application: not acknowledged, not held
                #expect(sub.bufferedCount == 0)

                try await reconnected(subscriber, after: cutConnection(subscriber, proxy))
                let resumed = try await subscriber.subscribe(
                    to: ["manual/c"], options: .init(qos: qos), acknowledgement: .manual)
                let again = try #require(try await next(resumed, "resend of the unseen message"))
                #expect(again.payload == [5] && again.isDuplicate)
                again.acknowledge()
            }
        }
    }

    @Test("a buffer smaller than what awaits acknowledgement drops none of it; all arrive in order")
    func receiveMaximumBoundsTheBuffer() async throws {
        try await PrivateBroker.with { broker in
            var config = testConfiguration(broker, .v5, "manual-window")
            config.receiveMaximum = 5
            config.subscriptionBufferCapacity = 2
            let client = MQTTClient(configuration: config)
            let task = try await startClient(client)
            let sub = try await client.subscribe(
                to: ["manual/w"], options: .init(qos: .atLeastOnce), acknowledgement: .manual)
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, .v5, "manual-window-pub")) {
                publisher in
                for i in 0..<200 {
                    try await publisher.publish(topic: "manual/w", payload: [UInt8(i)], qos: .atLeastOnce)
                }
            }
            var got: [UInt8] = []
            while got.count < 200 {
                let batch = try await withDeadline(.seconds(20), "next batch") {
                    Array(try await sub.buffer.takeBatch())
                }
                // More than Receive Maximum may arrive: mosquitto 2.0.11 keeps to it only for its
                // first window (see MQTTConnectionStateMachine.publishReceived).
                for m in batch {
                    got += m.payload
                    m.acknowledge()
                }
            }
            #expect(got == Array(0..<200), "in order, nothing lost")
            #expect(sub.droppedCount == 0, "the buffer of 2 dropped a message awaiting acknowledgement")
            client.shutdown()
            try await task.value
        }
    }

    /// A subscriber with a persistent session that reconnects quickly, behind a proxy the test can
    /// cut, on a fresh broker; shut down after `body`.
    func withPersistentSubscriber(
        _ version: MQTTProtocolVersion, _ name: String,
        _ body: (PrivateBroker, TCPProxy, MQTTClient) async throws -> Void
    ) async throws {
        try await PrivateBroker.with { broker in
            let proxy = try await TCPProxy.start(to: broker.port)
            var config = testConfiguration(broker, version, name)
            config.port = proxy.port
            config.cleanStart = false
            config.sessionExpiry = 300
            config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
            let subscriber = MQTTClient(configuration: config)
            let task = try await startClient(subscriber)
            try await body(broker, proxy, subscriber)
            subscriber.shutdown()
            try await task.value
            await proxy.stop()
        }
    }

    /// Cuts the subscriber's connection; returns the connection generation it had.
    func cutConnection(_ subscriber: MQTTClient, _ proxy: TCPProxy) -> UInt64 {
        let generation = subscriber.core.state.withLock { $0.machine.generation }
        proxy.cut()
        return generation
    }

    /// Waits until the subscriber is connected again on a later connection than `generation`.
    func reconnected(_ subscriber: MQTTClient, after generation: UInt64) async throws {
        try await waitUntil("reconnected", within: .seconds(20)) {
            subscriber.core.state.withLock { $0.machine.generation > generation && $0.machine.state.isConnected }
        }
    }

    /// The next message, bounded in time; the test expects one message at a time, so anything
    /// else buffered with it is a failure (a redelivery that should not happen).
    func next(_ sub: MQTTSubscription, _ what: String) async throws -> MQTTMessage? {
        let batch = try await withDeadline(.seconds(20), what) { Array(try await sub.buffer.takeBatch()) }
        #expect(batch.count == 1, "\(what): \(batch.count) messages")
        return batch.first
    }
}
