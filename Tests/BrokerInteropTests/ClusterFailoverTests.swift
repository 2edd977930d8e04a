import ConcurrencyPrimitives
import Foundation
import Testing

extension BrokerInteropTests {
    /// Messages each way; `VBUS_CLUSTER_MESSAGES` changes it (scripts/stress.sh runs more).
    static let clusterMessages = ProcessInfo.processInfo.environment["VBUS_CLUSTER_MESSAGES"].flatMap(Int.init) ?? 2_000

    /// `vbus bridge` on node 1 of a two-node RabbitMQ cluster; paho-mqtt on node 2 counts what
    /// came out of the bus, and publishes what must reach it, counted there by pyzmq. Node 1 is
    /// stopped mid-stream both ways: the bridge moves to node 2 (`--broker` lists both), resends
    /// what was in flight, and nothing is lost at QoS 1 (duplicates are allowed and counted).
    /// How node 1 goes: stopped by an operator, or crashed.
    enum NodeStop: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sigterm, sigkill
        var testDescription: String { self == .sigterm ? "stopped (SIGTERM)" : "crashed (SIGKILL)" }
    }

    @Test(
        """
        vbus bridge moves from a stopped or crashed RabbitMQ node to the other node of its cluster; nothing lost \
        at QoS 1 either way
        """,
        .timeLimit(.minutes(5)), arguments: NodeStop.allCases)
    func clusterFailover(stop: NodeStop) async throws {
        let total = Self.clusterMessages
        let cluster = try await RabbitCluster.start(nodeCount: 2)
        defer { cluster.stop() }
        try await cluster.mirrorSessionQueues()
        let (node1, node2) = (cluster.nodes[0].port, cluster.nodes[1].port)

        // bus -> MQTT, counted by paho on node 2 (a persistent session of its own).
        let counter = try PeerProcess.peer(
            "paho_counting_subscriber.py",
            ["\(node2)", "3.1.1", "1", "counter-\(UInt32.random(in: 0...UInt32.max))", "sensors", "\(total)"])
        try await counter.line { $0 == "subscribed" }
        let bridge = try PeerProcess.vbus([
            "bridge", "--broker", "mqtt://127.0.0.1:\(node1),mqtt://127.0.0.1:\(node2)", "--mqtt-version", "3.1.1",
            "--qos", "1",
            "--out", "sensors/#", "--in", "commands/#", "--client-id", "bridge-\(UInt32.random(in: 0...UInt32.max))",
            "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
        ])
        defer { bridge.terminate() }
        try await bridge.line { $0.contains("connected to 127.0.0.1:\(node1)") }
        let banner = try await bridge.line { $0.hasPrefix("vbus bridge:") && $0.contains("frontend=") }
        let frontend = try #require(Self.field("frontend", in: banner)),
            backend = try #require(Self.field("backend", in: banner))

        // MQTT -> bus, counted by pyzmq; paho publishes on node 2 once the bus subscriber is reached.
        let busCounter = try PeerProcess.peer("pyzmq_counting_subscriber.py", [backend, "commands", "\(total)"])
        try await busCounter.line { $0 == "ready" }
        let sync = try PeerProcess.peer("paho_numbered_publisher.py", ["\(node2)", "commands", "--sync"])
        try await busCounter.line { $0 == "synced" }
        sync.terminate()
        // Paced (about 4 s in all), so node 1 stops while commands flow through the bridge's session.
        let commands = try PeerProcess.peer(
            "paho_numbered_publisher.py", ["\(node2)", "commands", "0", "\(total)", "--pace", "0.002"])
        let sensors = try PeerProcess.peer("pyzmq_numbered_publisher.py", [frontend, "sensors", "0", "\(total / 2)"])
        #expect(try await sensors.exit(within: .seconds(60)) == 0, "the bus publisher failed: \(sensors.transcript)")

        // Stop node 1 while both streams are under way.
        try await counter.line(within: .seconds(60)) { Self.count(in: $0).map { $0 >= total / 4 } ?? false }
        let node = cluster.nodes[0]
        let stopping = ThreadWork(name: "interop-stop-n1") {
            if stop == .sigkill { node.process.send(SIGKILL) }
            node.terminate()
        }
        let later = try PeerProcess.peer(
            "pyzmq_numbered_publisher.py", [frontend, "sensors", "\(total / 2)", "\(total)", "--end"])
        #expect(try await later.exit(within: .seconds(60)) == 0, "the bus publisher failed: \(later.transcript)")
        _ = await stopping.value(before: .now + .seconds(30))

        // Said on the terminal: the loss, and the move to node 2 with what was resent.
        try await bridge.line(within: .seconds(60)) { $0.contains("lost the connection to 127.0.0.1:\(node1)") }
        let moved = try await bridge.line(within: .seconds(60)) {
            $0.contains("reconnected after") && $0.contains("127.0.0.1:\(node2)")
        }
        print("cluster failover (\(stop.rawValue)): \(moved)")

        let summary = try await counter.line(within: .seconds(120)) { $0.hasPrefix("summary") }
        #expect(
            summary.contains("distinct=\(total) ") && summary.contains("missing=0 "),
            "bus -> MQTT, paho on node 2: \(summary)")
        #expect(try await commands.exit(within: .seconds(90)) == 0, "paho publisher on node 2: \(commands.transcript)")
        let busSummary = try await busCounter.line(within: .seconds(90)) { $0.hasPrefix("summary") }
        #expect(busSummary.contains("missing=0 "), "MQTT -> bus, pyzmq on the bus: \(busSummary)")
        print("cluster failover (\(stop.rawValue)): bus -> MQTT \(summary); MQTT -> bus \(busSummary)")

        bridge.terminate()
        #expect(try await bridge.exit(within: .seconds(20)) == 0, "vbus bridge: \(bridge.transcript.suffix(10))")
    }

    /// `NAME=VALUE` from the bridge's banner.
    static func field(_ name: String, in banner: String) -> String? {
        banner.split(separator: " ").first { $0.hasPrefix("\(name)=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    /// N from a counter's progress line `received N`.
    static func count(in line: String) -> Int? {
        line.hasPrefix("received ") ? Int(line.dropFirst("received ".count)) : nil
    }
}
