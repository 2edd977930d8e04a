import ConcurrencyPrimitives
import Foundation
import Testing
import TestSupport

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
        let counter = try ChildProcess.peer(
            "paho_counting_subscriber.py",
            ["\(node2)", "3.1.1", "1", "counter-\(UInt32.random(in: 0...UInt32.max))", "sensors", "\(total)"])
        try await counter.firstLine { $0 == "subscribed" }
        let bridge = try ChildProcess.vbus([
            "bridge", "--broker", "mqtt://127.0.0.1:\(node1),mqtt://127.0.0.1:\(node2)", "--mqtt-version", "3.1.1",
            "--qos", "1",
            "--out", "sensors/#", "--in", "commands/#", "--client-id", "bridge-\(UInt32.random(in: 0...UInt32.max))",
            "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
        ])
        defer { bridge.terminate() }
        try await bridge.firstLine { $0.contains("connected to 127.0.0.1:\(node1)") }
        let (frontend, backend) = try await bridge.bridgeEndpoints()

        // MQTT -> bus, counted by pyzmq; paho publishes on node 2 once the bus subscriber is reached.
        let busCounter = try ChildProcess.peer("pyzmq_counting_subscriber.py", [backend, "commands", "\(total)"])
        try await busCounter.firstLine { $0 == "ready" }
        let sync = try ChildProcess.peer("paho_numbered_publisher.py", ["\(node2)", "commands", "--sync"])
        try await busCounter.firstLine { $0 == "synced" }
        sync.terminate()
        // Paced (about 4 s in all), so node 1 stops while commands flow through the bridge's session.
        let commands = try ChildProcess.peer(
            "paho_numbered_publisher.py", ["\(node2)", "commands", "0", "\(total)", "--pace", "0.002"])
        let sensors = try ChildProcess.peer("pyzmq_numbered_publisher.py", [frontend, "sensors", "0", "\(total / 2)"])
        #expect(
            try await sensors.exit(within: .seconds(60)).status == 0, "the bus publisher failed: \(sensors.linesSoFar)")

        // Stop node 1 while both streams are under way.
        try await counter.firstLine(within: .seconds(60)) { Self.count(in: $0).map { $0 >= total / 4 } ?? false }
        let node = cluster.nodes[0]
        let stopping = ThreadWork(name: "interop-stop-n1") {
            if stop == .sigkill { node.process.send(SIGKILL) }
            node.terminate()
        }
        let later = try ChildProcess.peer(
            "pyzmq_numbered_publisher.py", [frontend, "sensors", "\(total / 2)", "\(total)", "--end"])
        #expect(try await later.exit(within: .seconds(60)).status == 0, "the bus publisher failed: \(later.linesSoFar)")
        _ = await stopping.value(before: .now + .seconds(30))

        // Said on the terminal: the loss, and the move to node 2 with what was resent.
        try await bridge.firstLine(within: .seconds(60)) { $0.contains("lost the connection to 127.0.0.1:\(node1)") }
        let moved = try await bridge.firstLine(within: .seconds(60)) {
            $0.contains("reconnected after") && $0.contains("127.0.0.1:\(node2)")
        }
        print("cluster failover (\(stop.rawValue)): \(moved)")

        let summary = try await counter.firstLine(within: .seconds(120)) { $0.hasPrefix("summary") }
        #expect(
            summary.contains("distinct=\(total) ") && summary.contains("missing=0 "),
            "bus -> MQTT, paho on node 2: \(summary)")
        #expect(
            try await commands.exit(within: .seconds(90)).status == 0,
            "paho publisher on node 2: \(commands.linesSoFar)")
        let busSummary = try await busCounter.firstLine(within: .seconds(90)) { $0.hasPrefix("summary") }
        #expect(busSummary.contains("missing=0 "), "MQTT -> bus, pyzmq on the bus: \(busSummary)")
        print("cluster failover (\(stop.rawValue)): bus -> MQTT \(summary); MQTT -> bus \(busSummary)")

        bridge.terminate()
        #expect(try await bridge.exit(within: .seconds(20)).status == 0, "vbus bridge: \(bridge.linesSoFar.suffix(10))")
    }

    /// N from a counter's progress line `received N`.
    static func count(in line: String) -> Int? {
        line.hasPrefix("received ") ? Int(line.dropFirst("received ".count)) : nil
    }
}
