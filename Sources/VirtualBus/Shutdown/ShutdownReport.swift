/// What ``VirtualBus/shutdown(deadline:)`` did, phase by phase.
public struct ShutdownReport: Sendable, CustomStringConvertible {
    /// The ordered phases of a bus shutdown.
    public enum PhaseName: String, Sendable, CaseIterable {
        /// Cancel consumer tasks and finish every subscription's sequence.
        case cancelConsumers
        /// Stop every subscriber run loop; each closes its own socket.
        case stopRunLoops
        /// Close every publisher socket.
        case closePublishers
        /// Stop the proxy through its control socket and wait for its thread.
        case stopProxy
        /// Terminate the ZeroMQ context.
        case terminateContext
    }

    /// One phase's outcome.
    public struct Phase: Sendable {
        /// Which phase.
        public var name: PhaseName
        /// How long it took.
        public var duration: Duration
        /// Whether it finished before the deadline (a `false` names the phase that blocked).
        public var completed: Bool
    }

    /// The phases, in the order they ran.
    public var phases: [Phase] = []
    /// Subscriptions that were stopped.
    public var subscriptionsStopped = 0
    /// Publishers that were closed.
    public var publishersClosed = 0
    /// Messages still buffered in subscriptions, discarded unread.
    public var messagesDiscarded = 0
    /// Messages subscriptions dropped over their lifetime (policy, malformed, oversized, bad topic).
    public var messagesDropped = 0

    /// Whether every phase finished before the deadline.
    public var isComplete: Bool { phases.count == PhaseName.allCases.count && phases.allSatisfy(\.completed) }

    /// The first phase that did not finish in time, if any.
    public var blockedPhase: PhaseName? { phases.first { !$0.completed }?.name }

    /// Total time spent.
    public var duration: Duration { phases.reduce(.zero) { $0 + $1.duration } }

    public var description: String {
        let steps = phases.map {
            "\($0.name.rawValue)=\(milliseconds($0.duration))\($0.completed ? "" : " (TIMED OUT)")"
        }
        return "shutdown \(isComplete ? "complete" : "INCOMPLETE") in \(milliseconds(duration)): "
            + steps.joined(separator: ", ")
                + """
                ; subscriptions=\(subscriptionsStopped) publishers=\(publishersClosed) discarded=\(messagesDiscarded) \
                dropped=\(messagesDropped)
                """
    }

    private func milliseconds(_ duration: Duration) -> String {
        let microseconds = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        return "\(microseconds / 1000).\(String(microseconds % 1000 / 10).leftPadded(to: 2)) ms"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
