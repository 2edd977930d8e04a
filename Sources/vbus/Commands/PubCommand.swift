import ArgumentParser
import Foundation
import VirtualBus

/// `vbus pub`: publish to a bus in another process.
struct PubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pub",
        abstract: "Publish MESSAGE on TOPIC, or each line of standard input when no MESSAGE is given.",
        discussion: "--count/--size/--rate generate load. Unsent messages are flushed (up to 10 s) before exit."
    )

    @Option(name: .long, help: "The bus's frontend endpoint (XSUB side).") var frontend: BusEndpoint
    @Argument(help: "Topic to publish on.") var topic: String
    @Argument(help: "Message text (omit to read lines from standard input).") var message: String?
    @Option(name: .long, help: "Number of messages to send.") var count: Int?
    @Option(name: .long, help: "Payload size in bytes for generated messages.") var size: Int?
    @Option(name: .long, help: "Messages per second at most.") var rate: Double?
    @OptionGroup var curve: CurveClientOptions

    func validate() throws {
        if let count, count < 0 { throw ValidationError("--count must not be negative") }
        if let size, size < 0 { throw ValidationError("--size must not be negative") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() async throws {
        try BusTopic.validate(topic: topic)
        var configuration = BusConfiguration()
        try curve.apply(to: &configuration)
        configuration.linger = .seconds(10)
        let bus = try VirtualBus.connect(frontend: frontend, configuration: configuration)
        let publisher = try bus.makePublisher(policy: .block(timeout: .seconds(30)))
        let stopped = TerminationSignals.install { Task { await bus.shutdown() } }
        var sent = 0
        if message == nil && count == nil && size == nil {
            while !stopped.isRequested, let line = readLine() {
                try publisher.publish(topic: topic, payload: line)
                sent += 1
            }
        } else {
            let payload = message.map { Array($0.utf8) } ?? [UInt8](repeating: 0x78, count: size ?? 16)
            let total = count ?? 1
            var pacer = Pacer(rate: rate)
            var progress = Progress(total: total)
            for _ in 0..<total where !stopped.isRequested {
                pacer.wait()
                try publisher.publish(topic: topic, payload: payload)
                sent += 1
                progress.tick(sent)
            }
        }
        let report = await bus.shutdown(deadline: .now + .seconds(15))
        Output.status(
            "vbus pub: sent \(sent) message(s); \(report.isComplete ? "flushed" : "NOT all flushed: \(report)")")
    }
}

/// Paces a loop to at most `rate` iterations per second.
struct Pacer {
    let interval: Duration?
    var next = ContinuousClock.now

    init(rate: Double?) { interval = rate.map { .nanoseconds(Int64(1e9 / $0)) } }

    mutating func wait() {
        guard let interval else { return }
        let now = ContinuousClock.now
        if next > now { Thread.sleep(forTimeInterval: Double((next - now).components.attoseconds) / 1e18) }
        next = max(next, now) + interval
    }
}

/// Progress on standard error, about once a second, for long runs.
struct Progress {
    let total: Int
    var last = ContinuousClock.now

    init(total: Int) { self.total = total }

    mutating func tick(_ done: Int) {
        guard total >= 100_000, done.isMultiple(of: 4096) else { return }
        let now = ContinuousClock.now
        guard now - last >= .seconds(1) else { return }
        last = now
        Output.status("vbus: \(done)/\(total) (\(done * 100 / total)%)")
    }
}
