import ArgumentParser

@main
struct VBus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vbus",
        abstract: "A ZeroMQ virtual message bus with an MQTT bridge.",
        subcommands: [ProxyCommand.self, PubCommand.self, SubCommand.self, StatsCommand.self, ControlCommand.self, KeygenCommand.self, BridgeCommand.self, StressCommand.self, BenchCommand.self]
    )
}

/// `vbus bench ...`: benchmarks that run ours and a reference implementation side by side.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: ours next to the reference programs in ../shared/anchors, in one run.",
        subcommands: [BenchBusCommand.self, BenchMQTTCommand.self, BenchBridgeCommand.self, BenchShutdownCommand.self]
    )
}
