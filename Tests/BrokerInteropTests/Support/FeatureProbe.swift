import Synchronization
@testable import VirtualBusMQTT

/// Runs one feature of the matrix with our ``MQTTClient`` against one broker at one version.
///
/// Every probe is bounded: no outcome within ``limit`` is a hang, recorded as a failure. Each
/// run uses topics under a prefix of its own, so a retained message or a queued one from an
/// earlier run never answers for this one.
struct FeatureProbe: Sendable {
    let port: Int
    let version: MQTTProtocolVersion
    /// Topic prefix of this probe (`interop/RANDOM`).
    let prefix: String
    static let limit: Duration = .seconds(20)

    init(port: Int, version: MQTTProtocolVersion) {
        self.port = port
        self.version = version
        prefix = "interop/\(UInt32.random(in: 0...UInt32.max))"
    }

    func run(_ feature: InteropFeature) async -> InteropOutcome {
        let probe = self
        let outcome = Mutex<InteropOutcome?>(nil)
        let inTime = await withProbeDeadline(Self.limit) {
            let result: InteropOutcome
            do {
                result = try await probe.check(feature)
            } catch let error as MQTTError {
                result = .refused(error.code, error.message)
            } catch {
                result = .failed("\(error)")
            }
            outcome.withLock { $0 = result }
        }
        guard inTime else { return .failed("no outcome within \(Self.limit): a hang") }
        return outcome.withLock { $0 } ?? .failed("no outcome")
    }

    func configuration(_ name: String) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: port, version: version,
            clientID: "interop-\(name)-\(UInt32.random(in: 0...UInt32.max))", keepAlive: .seconds(30))
        configuration.connectTimeout = .seconds(10)
        return configuration
    }

    private func check(_ feature: InteropFeature) async throws -> InteropOutcome {
        switch feature {
        case .connect:
            try await MQTTClient.withConnection(configuration: configuration("connect")) { _ in }
            return .works
        case .wildcards: return try await wildcards()
        case .qos0: return try await deliver(.atMostOnce)
        case .qos1: return try await deliver(.atLeastOnce)
        case .qos2: return try await deliver(.exactlyOnce)
        case .retained: return try await retained()
        case .will: return try await will()
        case .keepAlive: return try await keepAlive()
        case .sessionResume: return try await sessionResume()
        case .reconnect: return try await reconnect()
        }
    }

    private func wildcards() async throws -> InteropOutcome {
        try await MQTTClient.withConnection(configuration: configuration("wild")) { client in
            let subscription = try await client.subscribe(to: [
                try MQTTTopicFilter("\(prefix)/+/w"), try MQTTTopicFilter("\(prefix)/h/#"),
            ])
            for topic in ["\(prefix)/none", "\(prefix)/a/w", "\(prefix)/h/x/y"] {
                _ = try await client.publish(topic: try MQTTTopic(topic), payload: Array(topic.utf8), qos: .atLeastOnce)
            }
            var topics: [String] = []
            for try await message in subscription {
                topics.append(message.topic.name)
                if topics.count == 2 { break }
            }
            let expected = ["\(prefix)/a/w", "\(prefix)/h/x/y"]
            return topics == expected ? .works : .failed("received \(topics), expected \(expected)")
        }
    }

    private func deliver(_ qos: MQTTQoS) async throws -> InteropOutcome {
        // The outcome stands even when the connection's end is an error afterwards (a broker that
        // closes the connection on a QoS it does not support makes `run()` throw too).
        let outcome = Mutex<InteropOutcome?>(nil)
        do {
            let result = try await deliver(qos, recording: outcome)
            return result
        } catch {
            if let recorded = outcome.withLock({ $0 }) { return recorded }
            throw error
        }
    }

    private func deliver(_ qos: MQTTQoS, recording outcome: borrowing Mutex<InteropOutcome?>) async throws
        -> InteropOutcome
    {
        try await MQTTClient.withConnection(configuration: configuration("qos\(qos.rawValue)")) { client in
            let topic = try MQTTTopic("\(prefix)/q")
            let subscription = try await client.subscribe(
                to: [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: qos))
            let granted = subscription.reasonCodes.first?.rawValue ?? 0xFF
            let published: MQTTPublishResult
            do {
                published = try await client.publish(topic: topic, payload: [qos.rawValue], qos: qos)
            } catch let error as MQTTError where granted < qos.rawValue {
                let refused = InteropOutcome.refused(
                    error.code, "SUBACK granted QoS \(granted); the QoS \(qos.rawValue) PUBLISH got: \(error.message)")
                outcome.withLock { $0 = refused }
                return refused
            }
            var delivered: MQTTMessage?
            for try await message in subscription {
                delivered = message
                break
            }
            guard let delivered, delivered.payload == [qos.rawValue] else {
                return .failed("the message did not arrive intact")
            }
            if granted == qos.rawValue && delivered.qos == qos && published.qos == qos { return .works }
            return .downgraded(
                """
                SUBACK granted QoS \(granted), acknowledged as QoS \(published.qos.rawValue), delivered at QoS \
                \(delivered.qos.rawValue)
                """
            )
        }
    }

    private func retained() async throws -> InteropOutcome {
        let topic = try MQTTTopic("\(prefix)/r")
        try await MQTTClient.withConnection(configuration: configuration("retain-pub")) { client in
            _ = try await client.publish(topic: topic, string: "kept", qos: .atLeastOnce, retain: true)
        }
        let outcome = try await MQTTClient.withConnection(configuration: configuration("retain-sub")) { client in
            let subscription = try await client.subscribe(to: [MQTTTopicFilter(topic)])
            for try await message in subscription {
                return message.retain && message.payload == Array("kept".utf8)
                    ? InteropOutcome.works
                    : .failed("retain flag \(message.retain), payload \(message.payload.count) bytes")
            }
            return .failed("the subscription ended")
        }
        // An empty retained message deletes it [MQTT-3.3.1-10]: nothing is left for another run.
        try await MQTTClient.withConnection(configuration: configuration("retain-clear")) { client in
            _ = try await client.publish(topic: topic, payload: [], qos: .atLeastOnce, retain: true)
        }
        return outcome
    }

    private func will() async throws -> InteropOutcome {
        let topic = try MQTTTopic("\(prefix)/will")
        return try await MQTTClient.withConnection(configuration: configuration("will-sub")) { watcher in
            let subscription = try await watcher.subscribe(to: [MQTTTopicFilter(topic)])
            var configuration = configuration("will")
            configuration.will = MQTTWill(topic: topic, payload: Array("gone".utf8), qos: .atLeastOnce)
            let client = MQTTClient(configuration: configuration)
            let running = Task { try await client.run() }
            defer { running.cancel() }
            try await client.waitUntilConnected()
            // Lost without DISCONNECT, as a crash or a cut cable loses it: the broker publishes the will.
            try await client.dropConnection()
            for try await message in subscription {
                client.shutdown()
                return message.payload == Array("gone".utf8) ? InteropOutcome.works : .failed("a will with other bytes")
            }
            return .failed("the subscription ended")
        }
    }

    private func keepAlive() async throws -> InteropOutcome {
        var configuration = configuration("ping")
        configuration.keepAlive = .seconds(1)
        return try await MQTTClient.withConnection(configuration: configuration) { client in
            while client.core.state.withLock({ $0.machine.pingResponses }) < 2 {
                try await Task.sleep(for: .milliseconds(50))  // polling a counter the client updates
            }
            return client.statistics.isConnected ? .works : .failed("disconnected")
        }
    }

    private func sessionResume() async throws -> InteropOutcome {
        let topic = try MQTTTopic("\(prefix)/s")
        var configuration = configuration("session")
        configuration.cleanStart = false
        configuration.sessionExpiry = 300
        try await MQTTClient.withConnection(configuration: configuration) { client in
            let subscription = try await client.subscribe(
                to: [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: .atLeastOnce))
            // Gone while subscribed: a subscription released first would UNSUBSCRIBE.
            withExtendedLifetime(subscription) { client.shutdown() }
        }
        try await MQTTClient.withConnection(configuration: self.configuration("session-pub")) { client in
            _ = try await client.publish(topic: topic, string: "queued", qos: .atLeastOnce)
        }
        return try await withRunningClient(configuration) { client, events in
            try await queuedMessageArrives(client, events, topic)
        }
    }

    /// Whether the message published while the session's client was away arrives on its return.
    private func queuedMessageArrives(
        _ client: MQTTClient, _ events: AsyncStream<MQTTClientEvent>, _ topic: MQTTTopic
    ) async throws -> InteropOutcome {
        var sessionPresent = false
        for await event in events {
            if case .connected(let present, _, _) = event {
                sessionPresent = present
                break
            }
        }
        let subscription = try await client.subscribe(
            to: [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: .atLeastOnce))
        // A broker that keeps no messages for an offline session sends nothing: bounded, so the
        // table can say so (our client did all it could; nothing of ours waits forever).
        let received = Mutex(false)
        _ = await withProbeDeadline(.seconds(5)) {
            do {
                for try await message in subscription where message.payload == Array("queued".utf8) {
                    received.withLock { $0 = true }
                    return
                }
            } catch {}  // the connection's end: nothing came
        }
        guard received.withLock({ $0 }) else {
            return .unsupported(
                """
                CONNACK session present \(sessionPresent); the QoS 1 message published while the client was away \
                never came
                """
            )
        }
        return sessionPresent ? .works : .downgraded("CONNACK said no session, yet the queued message came")
    }

    private func reconnect() async throws -> InteropOutcome {
        var configuration = configuration("reconnect")
        configuration.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(500))
        return try await withRunningClient(configuration) { client, events in
            try await relaysAfterReconnect(client, events)
        }
    }

    /// Whether a subscription still receives after the connection was dropped and made again.
    private func relaysAfterReconnect(_ client: MQTTClient, _ events: AsyncStream<MQTTClientEvent>) async throws
        -> InteropOutcome
    {
        let topic = try MQTTTopic("\(prefix)/again")
        let subscription = try await client.subscribe(
            to: [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: .atLeastOnce))
        try await client.dropConnection()
        var connections = 0
        for await event in events {
            if case .connected = event { connections += 1 }
            if connections == 2 { break }
        }
        // Made again on the new connection (the subscription was on the session or is redone).
        _ = try await client.publish(topic: topic, string: "after", qos: .atLeastOnce)
        for try await message in subscription {
            return message.payload == Array("after".utf8) ? .works : .failed("other bytes after the reconnect")
        }
        return .failed("the subscription ended")
    }

    /// Runs a client whose events are watched from before it connects, until `body` returns.
    private func withRunningClient(
        _ configuration: MQTTClientConfiguration,
        _ body: (MQTTClient, AsyncStream<MQTTClientEvent>) async throws -> InteropOutcome
    ) async throws -> InteropOutcome {
        let client = MQTTClient(configuration: configuration)
        let events = client.events()
        let running = Task { try await client.run() }
        defer {
            client.shutdown()
            running.cancel()
        }
        try await client.waitUntilConnected()
        return try await body(client, events)
    }
}
