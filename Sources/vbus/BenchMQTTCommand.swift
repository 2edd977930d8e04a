import ArgumentParser
import Foundation
import Synchronization
import VirtualBusMQTT
import VirtualBusBridge

#if canImport(Glibc)
import Glibc
#endif

/// `vbus bench mqtt`: publisher -> mosquitto -> subscriber throughput (and round-trip latency)
/// of this package's client next to libmosquitto (`c_mqtt_thr.c`) and paho-mqtt
/// (`py_mqtt_thr.py`), interleaved in one run. The last line is `ratio ours/libmosquitto: X.XX`
/// for the worst QoS.
struct BenchMQTTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt",
        abstract: "MQTT throughput and latency: ours vs libmosquitto vs paho-mqtt through one mosquitto."
    )

    @Option(help: "Use this broker (mqtt://HOST:PORT) instead of starting a mosquitto.")
    var broker: String?

    @Option(help: "Directory with c_mqtt_thr.c and py_mqtt_thr.py.")
    var anchors: String = "../shared/anchors"

    @Option(help: "Messages per throughput run.")
    var count: Int = 20_000

    @Option(help: "Interleaved runs per case (median reported).")
    var runs: Int = 3

    @Option(help: "QoS 1/2 publishes in flight at once (the anchors' MQTT_INFLIGHT).")
    var inflight: Int = 20

    @Option(help: "Round trips per latency measurement.")
    var latencyCount: Int = 2_000

    @Flag(help: "Skip the paho-mqtt anchor.")
    var skipPython = false

    @Option(help: "QoS levels to measure (repeat the option; default 0, 1 and 2).")
    var qos: [Int] = [0, 1, 2]

    @Option(help: "Payload sizes in bytes (repeat the option; default 16 and 1024).")
    var size: [Int] = [16, 1_024]

    @Flag(help: "Skip the round-trip latency measurement.")
    var skipLatency = false

    @Flag(help: "Measure only this package's client (for profiling; no ratio).")
    var oursOnly = false

    func run() async throws {
        let runner = BenchMQTTRunner(options: self)
        try await runner.run()
    }
}

/// Everything the command does, kept out of the parsed-options struct.
private struct BenchMQTTRunner {
    let options: BenchMQTTCommand

    func run() async throws {
        var mosquitto: PrivateBroker?
        let (host, port): (String, Int)
        if let url = options.broker {
            (host, port) = try Self.parseBroker(url)
        } else {
            let started = try PrivateBroker(extraConfiguration: "max_queued_messages 0\nset_tcp_nodelay true")
            mosquitto = started
            (host, port) = ("127.0.0.1", started.port)
            print("started mosquitto on 127.0.0.1:\(port)")
        }
        defer { mosquitto?.stop() }

        let workDir = FileManager.default.temporaryDirectory.appendingPathComponent("vbus-bench-mqtt-\(getpid())")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workDir) }
        let cBinary = workDir.appendingPathComponent("c_mqtt_thr").path
        let anchors = URL(fileURLWithPath: options.anchors)
        let cSource = anchors.appendingPathComponent("c_mqtt_thr.c").path
        let pySource = anchors.appendingPathComponent("py_mqtt_thr.py").path
        let compile = try Self.shell(["gcc", "-O2", "-o", cBinary, cSource, "-lmosquitto", "-lpthread"])
        guard compile.status == 0 else { throw BenchFailure(description: "cannot compile \(cSource): \(compile.output)") }
        let python = !options.skipPython && Self.ensurePaho()
        if !python && !options.skipPython { print("note: paho-mqtt unavailable; the Python anchor is skipped") }

        let env = ["MQTT_INFLIGHT": "\(options.inflight)"]
        var results: [String: [Double]] = [:]  // "impl|size|qos" -> msgs/s
        for size in options.size {
            for qos in options.qos {
                for r in 0..<options.runs {
                    let ours = try await BenchMQTTOurs.throughput(host: host, port: port, count: options.count, size: size,
                                                                  qos: qos, inflight: options.inflight)
                    results["ours|\(size)|\(qos)", default: []].append(ours)
                    print(String(format: "run %d ours qos%d %5d B: %10.0f msgs/s", r + 1, qos, size, ours))
                    if options.oursOnly { continue }
                    let c = try Self.anchorRate([cBinary, host, "\(port)", "\(options.count)", "\(size)", "\(qos)"], env: env)
                    results["c|\(size)|\(qos)", default: []].append(c)
                    print(String(format: "run %d libmosquitto qos%d %5d B: %10.0f msgs/s", r + 1, qos, size, c))
                    if python {
                        let py = try Self.anchorRate(["python3", pySource, host, "\(port)", "\(options.count)", "\(size)", "\(qos)"], env: env)
                        results["py|\(size)|\(qos)", default: []].append(py)
                        print(String(format: "run %d paho-mqtt qos%d %5d B: %10.0f msgs/s", r + 1, qos, size, py))
                    }
                }
            }
        }

        print("\nthroughput, median of \(options.runs) runs (msgs/s), \(options.count) messages, window \(options.inflight)")
        // "paired": the median of the per-run ratios (each run measures ours and libmosquitto back
        // to back), less sensitive to load that shifts between runs than the ratio of medians.
        print("size    qos          ours  libmosquitto     paho-mqtt   ours/libmosq    paired")
        var worstByQoS: [Int: Double] = [:]
        for size in options.size {
            for qos in options.qos {
                let ours = Self.median(results["ours|\(size)|\(qos)"] ?? [])
                let c = Self.median(results["c|\(size)|\(qos)"] ?? [])
                let py = Self.median(results["py|\(size)|\(qos)"] ?? [])
                let ratio = c > 0 ? ours / c : 0
                worstByQoS[qos] = min(worstByQoS[qos] ?? .infinity, ratio)
                let pyText = python ? String(format: "%.0f", py) : "-"
                let pyColumn = String(repeating: " ", count: max(0, 12 - pyText.count)) + pyText
                let oursRuns = results["ours|\(size)|\(qos)"] ?? []
                let cRuns = results["c|\(size)|\(qos)"] ?? []
                let paired = Self.median(zip(oursRuns, cRuns).compactMap { $1 > 0 ? $0 / $1 : nil })
                print(String(format: "%5d B  %d  %12.0f  %12.0f  ", size, qos, ours, c) + pyColumn
                      + String(format: "  %12.2f  %8.2f", ratio, paired))
            }
        }

        if !options.skipLatency { print("\nround-trip latency, 16 B, \(options.latencyCount) round trips (p50 / p99 microseconds)") }
        for qos in options.qos where !options.skipLatency {
            let ours = try await BenchMQTTOurs.latency(host: host, port: port, count: options.latencyCount, size: 16, qos: qos)
            let c = try Self.shell([cBinary, host, "\(port)", "\(options.latencyCount)", "16", "\(qos)", "lat"], env: env)
            let cLine = c.output.split(separator: "\n").last.map(String.init) ?? "failed"
            print(String(format: "ours qos%d: p50 %.1f us p99 %.1f us   |   %@", qos, ours.p50, ours.p99, cLine))
        }

        let worst = worstByQoS.values.min() ?? 0
        for qos in options.qos { print(String(format: "ratio ours/libmosquitto qos%d (worst size): %.2f", qos, worstByQoS[qos] ?? 0)) }
        print(String(format: "ratio ours/libmosquitto: %.2f", worst))
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Runs an anchor and reads the `= N msgs/s` figure from its last line.
    static func anchorRate(_ argv: [String], env: [String: String]) throws -> Double {
        let result = try shell(argv, env: env)
        guard result.status == 0, let line = result.output.split(separator: "\n").last(where: { $0.contains("msgs/s") }),
              let eq = line.range(of: "= ", options: .backwards)
        else { throw BenchFailure(description: "\(argv[0]) failed (\(result.status)): \(result.output)") }
        let number = line[eq.upperBound...].split(separator: " ").first.map(String.init) ?? ""
        guard let value = Double(number) else { throw BenchFailure(description: "cannot parse '\(line)'") }
        return value
    }

    static func shell(_ argv: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func ensurePaho() -> Bool {
        if (try? shell(["python3", "-c", "import paho.mqtt.client"]))?.status == 0 { return true }
        _ = try? shell(["python3", "-m", "pip", "install", "--quiet", "paho-mqtt"])
        if (try? shell(["python3", "-c", "import paho.mqtt.client"]))?.status == 0 { return true }
        _ = try? shell(["python3", "-m", "pip", "install", "--quiet", "--break-system-packages", "paho-mqtt"])
        return (try? shell(["python3", "-c", "import paho.mqtt.client"]))?.status == 0
    }

    static func parseBroker(_ url: String) throws -> (String, Int) {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) else {
            return (String(rest), 1883)
        }
        return (String(rest[..<colon]), port)
    }
}

/// Our client's side of the benchmark.
private enum BenchMQTTOurs {
    static func config(_ host: String, _ port: Int, _ role: String) -> MQTTClientConfiguration {
        MQTTClientConfiguration(host: host, port: port, version: .v3_1_1, clientID: "ours-\(role)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Publisher -> broker -> subscriber; time from the first publish to the last delivery.
    static func throughput(host: String, port: Int, count: Int, size: Int, qos: Int, inflight: Int) async throws -> Double {
        var subConfig = config(host, port, "sub")
        subConfig.subscriptionBufferCapacity = count + 1
        var pubConfig = config(host, port, "pub")
        pubConfig.maxInFlight = inflight
        pubConfig.publishQueueCapacity = count + 1
        pubConfig.publishQueuePolicy = .failFast
        let level = MQTTQoS(rawValue: UInt8(qos))!
        let topic = try MQTTTopic("bench/ours/\(getpid())/\(UInt32.random(in: 0...UInt32.max))")
        let sub = MQTTClient(configuration: subConfig)
        let pub = MQTTClient(configuration: pubConfig)
        let subTask = Task { try await sub.run() }
        let pubTask = Task { try await pub.run() }
        defer {
            sub.shutdown()
            pub.shutdown()
        }
        try await sub.waitUntilConnected()
        try await pub.waitUntilConnected()
        let subscription = try await sub.subscribe(to: [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: level))
        let progress = Atomic<Int>(0)
        let payload = [UInt8](repeating: 0x61, count: size)
        let start = ContinuousClock.now
        let receiver = Task { () throws -> ContinuousClock.Instant in
            var got = 0
            for try await message in subscription {
                guard message.payload.count == size else { throw BenchFailure(description: "malformed delivery") }
                got += 1
                progress.store(got, ordering: .relaxed)
                if got == count { return .now }
            }
            throw BenchFailure(description: "subscription ended after \(got) of \(count)")
        }
        var tickets: [MQTTPublishTicket] = []
        tickets.reserveCapacity(count)
        for _ in 0..<count { tickets.append(try pub.tryPublish(topic: topic, payload: payload, qos: level)) }
        // Watchdog: 10 s without progress is a lost message.
        var last = -1
        var lastChange = ContinuousClock.now
        while progress.load(ordering: .relaxed) < count {
            let now = progress.load(ordering: .relaxed)
            if now != last {
                last = now
                lastChange = .now
            } else if ContinuousClock.now - lastChange > .seconds(10) {
                receiver.cancel()
                throw BenchFailure(description: "ours qos\(qos): LOST messages: got \(now) of \(count)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let end = try await receiver.value
        for t in tickets { _ = try await t.result() }  // every publish acknowledged before we stop
        sub.shutdown()
        pub.shutdown()
        _ = try? await subTask.value
        _ = try? await pubTask.value
        let seconds = (end - start).seconds
        return Double(count) / seconds
    }

    /// One client subscribed to its own topic: publish, wait for the delivery, repeat.
    static func latency(host: String, port: Int, count: Int, size: Int, qos: Int) async throws -> (p50: Double, p99: Double) {
        let level = MQTTQoS(rawValue: UInt8(qos))!
        let client = MQTTClient(configuration: config(host, port, "lat"))
        let task = Task { try await client.run() }
        defer { client.shutdown() }
        try await client.waitUntilConnected()
        let topic = try MQTTTopic("bench/ours-lat/\(getpid())")
        let subscription = try await client.subscribe(to: [MQTTTopicFilter(topic)], options: MQTTSubscriptionOptions(qos: level))
        var iterator = subscription.makeAsyncIterator()
        let payload = [UInt8](repeating: 0x61, count: size)
        var samples: [Double] = []
        let warmup = min(1_000, count)
        for i in 0..<(count + warmup) {
            let t0 = ContinuousClock.now
            _ = try client.tryPublish(topic: topic, payload: payload, qos: level)
            guard try await iterator.next() != nil else { throw BenchFailure(description: "subscription ended") }
            let d = ContinuousClock.now - t0
            if i >= warmup { samples.append(Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6) }
        }
        client.shutdown()
        _ = try? await task.value
        samples.sort()
        return (samples[samples.count / 2], samples[min(samples.count - 1, samples.count * 99 / 100)])
    }
}
