import ArgumentParser
import BrokerLauncher
import Foundation
import VirtualBusBridge

/// Everything `vbus-bench mqtt` does, kept out of the parsed-options struct.
struct MQTTBenchRunner {
    let options: BenchMQTTCommand

    /// One measured run: throughput and the CPU time it cost per message (the whole process).
    struct Sample {
        var rate: Double
        var cpuMicrosecondsPerMessage: Double
        /// The broker's CPU per message during the run; nil with `--broker` (not our process to read).
        var brokerMicrosecondsPerMessage: Double? = nil
    }

    /// Which client a sample belongs to.
    enum Client: String { case ours, c, py }

    func run() async throws {
        var mosquitto: PrivateBroker?
        let (host, port): (String, Int)
        if let url = options.broker {
            // Plain MQTT only: the benchmark measures the protocol path, not TLS.
            guard let parts = URLComponents(string: url), parts.scheme == "mqtt", let given = parts.host else {
                throw ValidationError("--broker must look like mqtt://HOST:PORT, got '\(url)'")
            }
            (host, port) = (given, parts.port ?? 1883)
        } else {
            // TCP_NODELAY on the broker's sockets: without it, Nagle plus delayed ACKs put 40 ms
            // stalls into round trips (seen in the latency runs).
            let started = try await BenchBroker.started(
                extraConfiguration: "max_queued_messages 0\nset_tcp_nodelay true")
            mosquitto = started
            (host, port) = ("127.0.0.1", started.port)
            print("started mosquitto on 127.0.0.1:\(port)")
        }
        defer { mosquitto.map(BenchBroker.stop) }

        let cBinary =
            options.oursOnly
            ? ""
            : try ExternalProgram.compileC("\(options.anchors)/c_mqtt_thr.c", libraries: ["mosquitto", "pthread"])
        let python = !options.oursOnly && !options.skipPython && Self.ensurePaho()
        if !python && !options.skipPython && !options.oursOnly {
            print("note: paho-mqtt unavailable; the Python anchor is skipped")
        }
        let pySource = "\(options.anchors)/py_mqtt_thr.py"
        let environment = ["MQTT_INFLIGHT": "\(options.inflight)"]

        var samples: [String: [Sample]] = [:]  // "client|size|qos"
        func record(_ client: Client, _ size: Int, _ qos: Int, _ run: Int, _ sample: Sample) {
            samples["\(client.rawValue)|\(size)|\(qos)", default: []].append(sample)
            let name = ["ours": "ours", "c": "libmosquitto", "py": "paho-mqtt"][client.rawValue]!
            // busy: the broker's CPU per message at this rate, as a share of one core.
            let broker =
                sample.brokerMicrosecondsPerMessage.map {
                    String(format: "  broker %6.2f us CPU/msg (busy %3.0f%%)", $0, $0 * sample.rate / 1e4)
                } ?? ""
            print(
                String(
                    format: "run %d %@ qos%d %5d B: %10.0f msgs/s  %6.2f us CPU/msg", run, name, qos, size,
                    sample.rate, sample.cpuMicrosecondsPerMessage) + broker)
        }
        /// Runs one client's measurement and adds the broker's CPU per message to its sample.
        func withBrokerCPU(count: Int, _ body: () async throws -> Sample) async rethrows -> Sample {
            let pid = mosquitto?.processID
            let before = pid.flatMap(ProcessCPU.seconds(ofProcess:))
            var sample = try await body()
            if let pid, let before, let after = ProcessCPU.seconds(ofProcess: pid) {
                sample.brokerMicrosecondsPerMessage = (after - before) * 1e6 / Double(count)
            }
            return sample
        }
        for size in options.size {
            for qos in options.qos {
                let count = options.messages(atQoS: qos)
                for r in 1...options.runs {
                    record(
                        .ours, size, qos, r,
                        try await withBrokerCPU(count: count) {
                            let before = ProcessCPU.ownSeconds
                            let ours = try await MQTTBenchClient.throughput(
                                host: host, port: port, count: count, size: size,
                                qos: qos, inflight: options.inflight)
                            return Sample(
                                rate: ours,
                                cpuMicrosecondsPerMessage: (ProcessCPU.ownSeconds - before) * 1e6 / Double(count))
                        })
                    if options.oursOnly { continue }
                    let arguments = [host, "\(port)", "\(count)", "\(size)", "\(qos)"]
                    record(
                        .c, size, qos, r,
                        try await withBrokerCPU(count: count) {
                            try Self.anchor(cBinary, arguments, environment: environment, count: count)
                        })
                    if python {
                        record(
                            .py, size, qos, r,
                            try await withBrokerCPU(count: count) {
                                try Self.anchor(
                                    "/usr/bin/env", ["python3", pySource] + arguments, environment: environment,
                                    count: count)
                            })
                    }
                }
            }
        }
        let worstByQoS = printTable(samples, python: python)

        if !options.skipLatency && !options.oursOnly {
            print("\nround-trip latency, 16 B, \(options.latencyCount) round trips (p50 / p99 microseconds)")
            for qos in options.qos {
                let ours = try await MQTTBenchClient.latency(
                    host: host, port: port, count: options.latencyCount, size: 16, qos: qos)
                let c = try ExternalProgram.run(
                    cBinary, [host, "\(port)", "\(options.latencyCount)", "16", "\(qos)", "lat"])
                let cLine = c.split(separator: "\n").last.map(String.init) ?? "failed"
                print(String(format: "ours qos%d: p50 %.1f us p99 %.1f us   |   %@", qos, ours.p50, ours.p99, cLine))
            }
        }

        let worst = worstByQoS.values.min() ?? 0
        for qos in options.qos {
            print(String(format: "ratio ours/libmosquitto qos%d (paired, worst size): %.2f", qos, worstByQoS[qos] ?? 0))
        }
        print(String(format: "ratio ours/libmosquitto: %.2f", worst))
    }

    /// Prints the medians; returns the worst paired ours/libmosquitto ratio per QoS (the verdict,
    /// as in `vbus-bench bus`: a host whose speed drifts between runs moves both sides of a pair).
    private func printTable(_ samples: [String: [Sample]], python: Bool) -> [Int: Double] {
        print(
            """
            \nthroughput, median of \(options.runs) runs (msgs/s), window \(options.inflight); CPU: microseconds \
            per message, whole process
            """
        )
        print(
            """
            (broker: mosquitto's CPU per message while each client ran; at QoS 0 it needs about the same per \
            message for
            """
        )
        print(" every client, and when it approaches one core's worth it is the bottleneck of both)")
        // "paired": the median of the per-run ratios (each run measures ours and libmosquitto back
        // to back), less sensitive to load that shifts between runs than the ratio of medians.
        print(
            """
            size    qos  messages         ours  libmosquitto     paho-mqtt  ours/libmosq    paired    CPU ours  \
            CPU libmosq  broker/ours  broker/libmosq
            """
        )
        var worstByQoS: [Int: Double] = [:]
        for size in options.size {
            for qos in options.qos {
                let ours = samples["ours|\(size)|\(qos)"] ?? []
                let c = samples["c|\(size)|\(qos)"] ?? []
                let oursRate = Self.median(ours.map(\.rate))
                let cRate = Self.median(c.map(\.rate))
                let ratio = cRate > 0 ? oursRate / cRate : 0
                let paired = Self.median(zip(ours, c).compactMap { $1.rate > 0 ? $0.rate / $1.rate : nil })
                worstByQoS[qos] = min(worstByQoS[qos] ?? .infinity, paired)
                let pyText =
                    python ? String(format: "%.0f", Self.median((samples["py|\(size)|\(qos)"] ?? []).map(\.rate))) : "-"
                let pyColumn = String(repeating: " ", count: max(0, 12 - pyText.count)) + pyText
                print(
                    String(
                        format: "%5d B  %d  %8d  %11.0f  %12.0f  ", size, qos, options.messages(atQoS: qos), oursRate,
                        cRate) + pyColumn
                        + String(
                            format: "  %12.2f  %8.2f  %10.2f  %11.2f  %11.2f  %14.2f", ratio, paired,
                            Self.median(ours.map(\.cpuMicrosecondsPerMessage)),
                            Self.median(c.map(\.cpuMicrosecondsPerMessage)),
                            Self.median(ours.compactMap(\.brokerMicrosecondsPerMessage)),
                            Self.median(c.compactMap(\.brokerMicrosecondsPerMessage))))
            }
        }
        return worstByQoS
    }

    /// Runs an anchor; reads its rate from the `= N msgs/s` of its output, and its CPU time from
    /// the children's resource usage.
    static func anchor(_ executable: String, _ arguments: [String], environment: [String: String], count: Int) throws
        -> Sample
    {
        let before = ProcessCPU.childrenSeconds
        let output = try ExternalProgram.run(executable, arguments, environment: environment)
        let cpu = ProcessCPU.childrenSeconds - before
        guard let line = output.split(separator: "\n").last(where: { $0.contains("msgs/s") }),
            let rate = ExternalProgram.number(before: "msgs/s", in: String(line))
        else {
            throw BenchFailure(description: "\(executable) \(arguments.joined(separator: " ")): no rate in \(output)")
        }
        return Sample(rate: rate, cpuMicrosecondsPerMessage: cpu * 1e6 / Double(count))
    }

    /// The median, or 0 for no samples (an anchor that was not run).
    static func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : Stats.median(values) }

    /// paho-mqtt for the Python anchor, installed with pip when missing.
    static func ensurePaho() -> Bool {
        func importable() -> Bool {
            (try? ExternalProgram.run("/usr/bin/env", ["python3", "-c", "import paho.mqtt.client"])) != nil
        }
        if importable() { return true }
        _ = try? ExternalProgram.run("/usr/bin/env", ["python3", "-m", "pip", "install", "--quiet", "paho-mqtt"])
        if importable() { return true }
        _ = try? ExternalProgram.run(
            "/usr/bin/env", ["python3", "-m", "pip", "install", "--quiet", "--break-system-packages", "paho-mqtt"])
        return importable()
    }
}
