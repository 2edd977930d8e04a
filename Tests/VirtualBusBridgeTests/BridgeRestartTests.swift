import BrokerLauncher
import Foundation
import Synchronization
import Testing
import TestSupport
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

/// The broker is stopped and restarted in the middle of a stream, both ways, at QoS 1 and 2: every
/// message the bridge accepted arrives, and at QoS 2 exactly once.
///
/// The broker is stopped with SIGTERM, which makes mosquitto save its state: what it acknowledged
/// survives (with SIGKILL mosquitto itself loses what it acknowledged but had not saved, which no
/// client can repair). What it did not acknowledge is ours to resend (persistent session, DUP) or
/// to hold while it is down; its connections are cut as abruptly either way.
@Suite("Bridge across a broker restart", .timeLimit(.minutes(3)))
struct BridgeRestartTests {
    static let cases: [(MQTTProtocolVersion, MQTTQoS)] = [
        (.v5, .atLeastOnce), (.v5, .exactlyOnce), (.v3_1_1, .atLeastOnce), (.v3_1_1, .exactlyOnce),
    ]
    static let total = 2_000

    @Test(
        "out: bus -> bridge -> broker restarted mid-stream -> MQTT subscriber: none lost, no duplicates at QoS 2",
        arguments: cases)
    func outbound(version: MQTTProtocolVersion, qos: MQTTQoS) async throws {
        let broker = try await PrivateBroker.started(persistence: true)
        defer { broker.stop() }
        let receiver = MQTTClient(
            configuration: BridgeHarness.configuration(broker, version, name: "receiver", persistent: true))
        let receiving = Task { try await receiver.run() }
        defer { receiver.shutdown() }
        try await receiver.waitUntilConnected()
        let subscription = try await receiver.subscribe(to: ["site/data/#"], options: MQTTSubscriptionOptions(qos: qos))
        let tally = Tally(total: Self.total)
        let counting = Task { try await tally.count(subscription) { $0.topic.name == "site/data/end" } }

        let rule = try BridgeRule(.out, "data/#", remotePrefix: "site/", qos: qos)
        let statistics = try await BridgeHarness.withBridge(
            BridgeHarness.configuration(broker, version, persistent: true), rules: [rule]
        ) { bus, bridge in
            let publisher = try bus.makePublisher()
            for index in 0..<Self.total / 2 { try publisher.publish(topic: "data/\(index)", payload: "\(index)") }
            try await waitUntil(
                """
                the first quarter to arrive (\(tally.distinct) so far; bridge \(bridge.statistics[0]); receiver \
                \(receiver.statistics))
                """,
                within: .seconds(10)
            ) { tally.distinct >= Self.total / 4 }
            broker.kill(graceful: true)
            // Accepted by the bridge while the broker is down: held in the session's bounded queue.
            for index in Self.total / 2..<Self.total {
                try publisher.publish(topic: "data/\(index)", payload: "\(index)")
            }
            try await broker.start()
            try await waitUntil("every publish acknowledged", within: .seconds(60)) {
                bridge.statistics[0].acknowledgedOut == Self.total
            }
            // Behind everything else in the receiver's session queue, so any redelivery is counted.
            try publisher.publish(topic: "data/end", payload: "")
            try await counting.value
        }
        tally.expectAllOnce(qos: qos)
        #expect(statistics[0].failedOut.isEmpty)
        receiver.shutdown()
        try await receiving.value
    }

    @Test(
        """
        in: MQTT publisher -> broker restarted mid-stream -> bridge -> bus subscriber: none lost, no duplicates \
        at QoS 2
        """,
        arguments: cases)
    func inbound(version: MQTTProtocolVersion, qos: MQTTQoS) async throws {
        let broker = try await PrivateBroker.started(persistence: true)
        defer { broker.stop() }
        let sender = MQTTClient(
            configuration: BridgeHarness.configuration(broker, version, name: "sender", persistent: true))
        let sending = Task { try await sender.run() }
        defer { sender.shutdown() }
        try await sender.waitUntilConnected()
        let tally = Tally(total: Self.total)

        let rule = try BridgeRule(.in, "cmd/#", localPrefix: "local/", remotePrefix: "site/", qos: qos)
        let statistics = try await BridgeHarness.withBridge(
            BridgeHarness.configuration(broker, version, persistent: true), rules: [rule]
        ) { bus, _ in
            let subscription = try await bus.subscribe(to: ["local/cmd/"])
            let counting = Task { try await tally.count(subscription) { $0.topic == "local/cmd/end" } }
            var tickets: [MQTTPublishTicket] = []
            for index in 0..<Self.total / 2 {
                tickets.append(
                    try sender.tryPublish(
                        topic: try MQTTTopic("site/cmd/\(index)"), payload: Array("\(index)".utf8), qos: qos))
            }
            try await waitUntil("the first quarter to arrive (\(tally.distinct) so far)", within: .seconds(30)) {
                tally.distinct >= Self.total / 4
            }
            broker.kill(graceful: true)
            for index in Self.total / 2..<Self.total {
                tickets.append(
                    try sender.tryPublish(
                        topic: try MQTTTopic("site/cmd/\(index)"), payload: Array("\(index)".utf8), qos: qos))
            }
            try await broker.start()
            for ticket in tickets { _ = try await ticket.result() }
            try await sender.publish(topic: "site/cmd/end", payload: [], qos: qos)
            try await counting.value
        }
        // The bridge acknowledges only after the bus accepted, so a QoS 2 message taken from the
        // subscription after its connection dropped gets its PUBREC on the resumed session, and the
        // broker's resend of it is merged into that copy, not relayed twice.
        tally.expectAllOnce(qos: qos)
        #expect(statistics[0].droppedIn.isEmpty)
        sender.shutdown()
        try await sending.value
    }
}

/// Counts arrivals of the messages numbered 0..<total (the number is the payload).
private final class Tally: Sendable {
    private let counts: Mutex<[Int]>

    init(total: Int) { counts = Mutex(Array(repeating: 0, count: total)) }

    var distinct: Int { counts.withLock { $0.count { $0 > 0 } } }
    var duplicates: Int { counts.withLock { $0.reduce(0) { $0 + max($1 - 1, 0) } } }
    var missing: [Int] { counts.withLock { counts in counts.indices.filter { counts[$0] == 0 } } }

    /// Every message arrived; at QoS 2 none twice.
    func expectAllOnce(qos: MQTTQoS) {
        #expect(distinct == counts.withLock(\.count), "lost: \(missing.prefix(10))")
        if qos == .exactlyOnce { #expect(duplicates == 0, "duplicated at QoS 2") }
    }

    func record(_ payload: some Sequence<UInt8>) {
        guard let index = Int(String(decoding: Array(payload), as: UTF8.self)) else { return }
        counts.withLock { $0[index] += 1 }
    }

    func count(_ subscription: MQTTSubscription, until isEnd: (MQTTMessage) -> Bool) async throws {
        for try await message in subscription {
            if isEnd(message) { return }
            record(message.payload)
        }
    }

    func count(_ subscription: BusSubscription, until isEnd: (BusMessage) -> Bool) async throws {
        for await message in subscription {
            if isEnd(message) { return }
            record(message.payload)
        }
    }
}
