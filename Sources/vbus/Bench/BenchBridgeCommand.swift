import ArgumentParser
import Foundation
import VirtualBusBridge
import VirtualBusMQTT

/// `vbus bench bridge`: the bridged path (bus <-> bridge <-> mosquitto <-> MQTT client) next to
/// the direct libmosquitto path through the same broker (`c_mqtt_thr.c`), in one run; then the
/// bridge's memory while the broker is down under load.
struct BenchBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "Bridged vs direct MQTT throughput (QoS 0/1, 16 B/1 KiB, both ways), and RSS during a broker outage."
    )

    @Option(help: "Messages per run.") var count = 20_000
    @Option(help: "Paired runs per case (median reported).") var runs = 3
    @Option(help: "Directory of the reference programs.") var anchors = "../shared/anchors"
    @Option(help: "Seconds the broker is down in the outage test (0 skips it).") var outageSeconds = 30
    @Option(help: "Messages per second published on the bus during the outage.") var outageRate = 5_000
    @Option(help: "The bridge's outage buffer (its MQTT session's publish queue), in messages.") var outageBuffer = 10_000
    @Flag(help: "Only the outage test.") var outageOnly = false

    func run() async throws {
        let anchor = try ExternalProgram.compileC("\(anchors)/c_mqtt_thr.c", libraries: ["mosquitto", "pthread"])
        let broker = try await BenchBroker.started(extraConfiguration: "max_queued_messages 0\nset_tcp_nodelay true")
        defer { BenchBroker.stop(broker) }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; mosquitto on 127.0.0.1:\(broker.port); \(count) messages per run, \(runs) paired runs, MQTT 3.1.1, window 20")
        var headline: Double?
        print("case                   bridged        direct   bridged/direct")
        for qos in [MQTTQoS.atMostOnce, .atLeastOnce] where !outageOnly {
            for size in [16, 1_024] {
                var direct: [Double] = []
                var bridged: [BridgeThroughput.Direction: [Double]] = [:]
                for _ in 0..<runs {
                    for direction in BridgeThroughput.Direction.allCases {
                        bridged[direction, default: []].append(try await BridgeThroughput.run(direction, port: broker.port, count: count, size: size, qos: qos))
                    }
                    let output = try ExternalProgram.run(anchor, ["127.0.0.1", "\(broker.port)", "\(count)", "\(size)", "\(qos.rawValue)"])
                    guard let rate = ExternalProgram.number(before: "msgs/s", in: output) else { throw ValidationError("unexpected anchor output: \(output)") }
                    direct.append(rate)
                }
                let directRate = Stats.median(direct)
                for direction in BridgeThroughput.Direction.allCases {
                    let rate = Stats.median(bridged[direction] ?? [])
                    let ratio = rate / directRate
                    let label = "qos\(qos.rawValue) \(size) B \(direction.rawValue)".padding(toLength: 18, withPad: " ", startingAt: 0)
                    print("\(label) \(rate.rateDescription.leftPadded(12)) \(directRate.rateDescription.leftPadded(12))   \(ratio.formatted(decimals: 2))")
                    if qos == .atLeastOnce && size == 16 { headline = min(headline ?? ratio, ratio) }
                }
            }
        }
        if outageSeconds > 0 {
            try await BridgeOutage.run(seconds: outageSeconds, rate: outageRate, buffer: outageBuffer)
        }
        if let headline { print("ratio bridged/direct: \(headline.formatted(decimals: 2))") }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
