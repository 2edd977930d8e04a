import ArgumentParser
import Foundation
import VirtualBusBridge
import VirtualBusMQTT

/// `vbus-bench bridge`: the bridged path (bus <-> bridge <-> mosquitto <-> MQTT client) next to
/// the direct libmosquitto path through the same broker (`c_mqtt_thr.c`), in one run; then the
/// bridge's memory while the broker is down under load.
struct BenchBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract:
            """
            Bridged vs direct MQTT throughput (QoS 0/1, 16 B/1 KiB, both ways), RSS during a broker outage, and \
            broker restarts counted by paho-mqtt.
            """
    )

    @Option(help: "Messages per run.") var count = 20_000
    @Option(help: "Paired runs per case (median reported).") var runs = 3
    @Option(help: "Directory of the reference programs.") var anchors = "../shared/anchors"
    @Option(help: "Seconds the broker is down in the outage test (0 skips it).") var outageSeconds = 30
    @Option(help: "Messages per second published on the bus during the outage.") var outageRate = 5_000
    @Option(help: "The bridge's outage buffer (its MQTT session's publish queue), in messages.") var outageBuffer =
        10_000
    @Flag(help: "Only the outage test.") var outageOnly = false
    @Option(help: "Broker restarts per case in the restart test (0 skips it).") var restarts = 3
    @Option(help: "Messages per restart round (half before the restart, half while the broker is down).")
    var restartRound = 2_000
    @Option(help: "Directory of the third-party peers (the paho-mqtt subscriber).") var peers = "Tests/Peers"

    func run() async throws {
        let anchor = try ExternalProgram.compileC("\(anchors)/c_mqtt_thr.c", libraries: ["mosquitto", "pthread"])
        let broker = try await BenchBroker.started(extraConfiguration: "max_queued_messages 0\nset_tcp_nodelay true")
        defer { BenchBroker.stop(broker) }
        print(
            """
            machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; mosquitto on \
            127.0.0.1:\(broker.port); \(count) messages per run, \(runs) paired runs, MQTT 3.1.1, window 20
            """
        )
        // The verdict is the worst row of the table, named, so it cannot hide a slow case.
        var worst: (label: String, ratio: Double)?
        print("case                   bridged        direct   bridged/direct")
        for qos in [MQTTQoS.atMostOnce, .atLeastOnce] where !outageOnly {
            for size in [16, 1_024] {
                var direct: [Double] = []
                var bridged: [BridgeThroughput.Direction: [Double]] = [:]
                for _ in 0..<runs {
                    for direction in BridgeThroughput.Direction.allCases {
                        bridged[direction, default: []].append(
                            try await BridgeThroughput.run(
                                direction, port: broker.port, count: count, size: size, qos: qos))
                    }
                    let output = try ExternalProgram.run(
                        anchor, ["127.0.0.1", "\(broker.port)", "\(count)", "\(size)", "\(qos.rawValue)"])
                    guard let rate = ExternalProgram.number(before: "msgs/s", in: output) else {
                        throw ValidationError("unexpected anchor output: \(output)")
                    }
                    direct.append(rate)
                }
                let directRate = Stats.median(direct)
                for direction in BridgeThroughput.Direction.allCases {
                    let rate = Stats.median(bridged[direction] ?? [])
                    let ratio = rate / directRate
                    let label = "qos\(qos.rawValue) \(size) B \(direction.rawValue)".padding(
                        toLength: 18, withPad: " ", startingAt: 0)
                    print(
                        """
                        \(label) \(rate.rateDescription.leftPadded(12)) \
                        \(directRate.rateDescription.leftPadded(12))   \(ratio.formatted(decimals: 2))
                        """
                    )
                    if ratio < worst?.ratio ?? .infinity { worst = (label.trimmingCharacters(in: .whitespaces), ratio) }
                }
            }
        }
        if outageSeconds > 0 {
            try await BridgeOutage.run(seconds: outageSeconds, rate: outageRate, buffer: outageBuffer)
        }
        if restarts > 0 { try await restartTable() }
        if let worst {
            print("ratio bridged/direct (worst row, \(worst.label)): \(worst.ratio.formatted(decimals: 2))")
        }
    }
}

extension BenchBridgeCommand {
    /// One row per MQTT version and QoS: what an independent subscriber lost and got twice across
    /// the restarts, what the bridge failed, and how long after the broker was back it reconnected.
    func restartTable() async throws {
        print(
            """
            restarts: vbus bridge --out (clean start, default reconnect) -> mosquitto with persistence, SIGTERM + \
            start x\(restarts), \(restartRound) messages a round at 2,000 msgs/s; paho-mqtt subscriber counts
            """
        )
        print("case          sent   lost  duplicated  failed  reconnect after broker up (median / max)")
        for version in [MQTTProtocolVersion.v3_1_1, .v5] {
            for qos in [MQTTQoS.atLeastOnce, .exactlyOnce] {
                let outcome = try await BridgeRestart.run(
                    version: version, qos: qos, restarts: restarts, perRound: restartRound, rate: 2_000, peers: peers)
                func field(_ name: String) -> String {
                    outcome.summary.split(separator: " ").first { $0.hasPrefix("\(name)=") }.map {
                        String($0.dropFirst(name.count + 1))
                    } ?? "?"
                }
                let milliseconds = outcome.recoveries.map {
                    Double($0.components.seconds) * 1_000 + Double($0.components.attoseconds) / 1e15
                }.sorted()
                let recovery =
                    milliseconds.isEmpty
                    ? "none"
                    : """
                    \(Stats.median(milliseconds).formatted(decimals: 0)) ms / \
                    \((milliseconds.last ?? 0).formatted(decimals: 0)) ms
                    """
                let label = "\(version == .v5 ? "5.0" : "3.1.1") qos\(qos.rawValue)".padding(
                    toLength: 11, withPad: " ", startingAt: 0)
                print(
                    """
                    \(label) \("\(restarts * restartRound)".leftPadded(6)) \(field("missing").leftPadded(6)) \
                    \(field("duplicates").leftPadded(11)) \("\(outcome.failed)".leftPadded(7))  \(recovery)
                    """
                )
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
