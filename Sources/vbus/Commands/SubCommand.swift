import ArgumentParser
import Foundation
import VirtualBus

/// `vbus sub`: print messages from a bus in another process.
struct SubCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    static let configuration = CommandConfiguration(
        commandName: "sub",
        abstract: "Print one line per message whose topic starts with one of the prefixes (all when none).",
        discussion:
            """
            text: topic, a space, the payload as UTF-8 (or base64: + base64 when it is not UTF-8). json: \
            {\"topic\":...,\"payload\":...}. With --frontend too, the subscription is confirmed before 'ready' is \
            printed on standard error.
            """
    )

    @Option(name: .long, help: "The bus's backend endpoint (XPUB side).") var backend: BusEndpoint
    @Option(name: .long, help: "The bus's frontend endpoint, to confirm the subscription end to end.") var frontend:
        BusEndpoint?
    @Argument(help: "Topic prefixes.") var prefixes: [String] = []
    @Option(name: .long, help: "Exit after this many messages.") var count: Int?
    @Option(name: .long, help: "Output format.") var format: Format = .text
    @OptionGroup var curve: CurveClientOptions

    func run() async throws {
        var configuration = BusConfiguration()
        try curve.apply(to: &configuration)
        let bus = try VirtualBus.connect(frontend: frontend, backend: backend, configuration: configuration)
        let subscription = try await bus.subscribe(to: prefixes.isEmpty ? [""] : prefixes)
        _ = TerminationSignals.install { Task { await bus.shutdown() } }
        Output.status("vbus sub: ready")
        var received = 0
        if count != 0 {
            for await message in subscription {
                Output.line(format == .json ? Self.json(message) : Self.text(message))
                received += 1
                if let count, received >= count { break }
            }
        }
        await bus.shutdown()
    }

    static func text(_ message: BusMessage) -> String {
        "\(message.topic) \(printable(Array(message.payload)))"
    }

    static func json(_ message: BusMessage) -> String {
        #"{"topic":\#(quoted(message.topic)),"payload":\#(quoted(printable(Array(message.payload))))}"#
    }

    /// The payload as UTF-8 text, or `base64:` + base64 when it is not valid UTF-8.
    static func printable(_ payload: [UInt8]) -> String {
        if let text = String(validating: payload, as: UTF8.self) { return text }
        return "base64:" + Data(payload).base64EncodedString()
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
