import ArgumentParser

/// `vbus-bench`: the release checks, kept out of the shipped `vbus`. The benchmarks run ours next
/// to the reference programs of ../shared/anchors in one run and end with the verdict line
/// `ratio ...: X.XX` (the worst like-for-like row); `stress` runs the correctness suites long.
@main
struct VBusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vbus-bench",
        abstract: "Benchmarks next to their reference programs, and long stress runs, for release checks.",
        subcommands: [
            BenchBusCommand.self, BenchMQTTCommand.self, BenchBridgeCommand.self, BenchShutdownCommand.self,
            StressCommand.self,
        ]
    )
}
