import ArgumentParser

/// `vbus-bench mqtt`: publisher -> mosquitto -> subscriber throughput (and round-trip latency)
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

    @Option(help: "Messages per throughput run (default: 100000 at QoS 0, 20000 at QoS 1 and 2, about a second each).")
    var count: Int?

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

    /// Messages per run at `qos`: QoS 0 runs ten times faster, so it gets more messages for a
    /// run as long as the others (a 0.2 s run measures start-up more than throughput).
    func messages(atQoS qos: Int) -> Int { count ?? (qos == 0 ? 100_000 : 20_000) }

    func run() async throws {
        try await MQTTBenchRunner(options: self).run()
    }
}
