import ArgumentParser
import VirtualBus

/// `vbus stats`: the counters of a running `vbus proxy --control ENDPOINT`.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show a running proxy's counters (JSON).")

    @Option(name: .long, help: "The proxy's --control endpoint.") var control: BusEndpoint
    @Option(name: .long, help: "Seconds to wait for an answer.") var timeout = 2

    func run() throws {
        Output.line(try VirtualBus.remoteStatistics(at: control, timeout: .seconds(timeout)).json)
    }
}

/// `vbus control PAUSE|RESUME|STATISTICS`: steers a running `vbus proxy --control ENDPOINT`.
struct ControlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "Send a running proxy PAUSE (hold every message), RESUME or STATISTICS; prints its answer."
    )

    @Argument(help: "PAUSE, RESUME or STATISTICS.") var command: String
    @Option(name: .long, help: "The proxy's --control endpoint.") var control: BusEndpoint
    @Option(name: .long, help: "Seconds to wait for an answer.") var timeout = 2

    func run() throws {
        let answer = try VirtualBus.remoteControl(command.uppercased(), at: control, timeout: .seconds(timeout))
        // The proxy answers a refused command with "ERROR ...": a script must see it fail.
        guard !answer.hasPrefix("ERROR") else { throw Refused(answer: answer) }
        Output.line(answer)
    }

    /// The proxy's `ERROR ...` answer, printed as the command's error (exit status 1).
    struct Refused: Error, CustomStringConvertible {
        let answer: String
        var description: String { "the proxy refused: \(answer)" }
    }
}
