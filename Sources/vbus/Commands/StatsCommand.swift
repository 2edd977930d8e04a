import ArgumentParser
import VirtualBus

/// `vbus stats`: the counters of a running `vbus proxy --control ENDPOINT`.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show a running proxy's counters (JSON).")

    @Option(name: .long, help: "The proxy's --control endpoint.") var control: BusEndpoint
    @Option(name: .long, help: "Seconds to wait for an answer.") var timeout = 2

    func run() throws {
        Output.line(try VirtualBus.remoteStatistics(at: control, timeout: .seconds(timeout)).json)
    }
}
