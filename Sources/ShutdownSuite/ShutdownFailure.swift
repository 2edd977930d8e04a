public import VirtualBus

/// What the watchdog found wrong in one iteration: enough to reproduce it and to see where it hung.
public struct ShutdownFailure: Error, Sendable, CustomStringConvertible {
    /// The scenario that failed.
    public var scenario: String
    /// The seed that replays it (`vbus-bench stress shutdown --scenario NAME --seed SEED --iterations 1`).
    public var seed: UInt64
    /// The shutdown phase that did not finish in time, from the report or, when shutdown never
    /// returned, inferred from which threads are still running.
    public var blockedPhase: ShutdownReport.PhaseName?
    /// Whether the iteration hung: shutdown (or the whole scenario) did not return in time.
    public var isHang: Bool
    /// How long after shutdown started the failure was reported.
    public var reportedAfter: Duration?
    /// Every problem found.
    public var problems: [String]
    /// The first shutdown report, if shutdown returned.
    public var report: ShutdownReport?

    public var description: String {
        var lines = [
            """
            shutdown suite FAILURE: scenario \(scenario), seed \(seed), blocked phase \
            \(blockedPhase?.rawValue ?? "none")\(isHang ? " (HANG)" : "")
            """
        ]
        lines += problems.map { "  - \($0)" }
        if let report { lines.append("  report: \(report)") }
        lines.append(
            "  reproduce: swift run vbus-bench stress shutdown --scenario \(scenario) --seed \(seed) --iterations 1")
        return lines.joined(separator: "\n")
    }
}

/// The outcome of one iteration.
public struct IterationResult: Sendable {
    /// The seed it ran with.
    public var seed: UInt64
    /// How long the shutdown (or release) took, when it returned.
    public var shutdownDuration: Duration?
    /// The accounting totals over its counted subscriptions.
    public var accounting = Accounting()
    /// What went wrong, if anything.
    public var failure: ShutdownFailure?
}

/// Message accounting over the counted subscriptions of one or more iterations.
///
/// `expected` is every message a tracked publisher had accepted on a matching topic;
/// `delivered + dropped + lostInFlight == expected` always. `confirmed` messages had reached the
/// subscription before shutdown began and must all be delivered or dropped-with-reason; only
/// messages still in flight in libzmq's queues when shutdown began may end up in `lostInFlight`.
public struct Accounting: Sendable, Hashable {
    /// Matching messages accepted by publishers.
    public var expected = 0
    /// Of those, confirmed to have reached the subscription before shutdown began.
    public var confirmed = 0
    /// Handed to consumers.
    public var delivered = 0
    /// Dropped with a reason (buffer policy, discarded at shutdown, ...).
    public var dropped = 0
    /// Still in libzmq's queues when the sockets closed (linger discards them by design).
    public var lostInFlight = 0

    mutating func add(_ other: Accounting) {
        expected += other.expected
        confirmed += other.confirmed
        delivered += other.delivered
        dropped += other.dropped
        lostInFlight += other.lostInFlight
    }
}
