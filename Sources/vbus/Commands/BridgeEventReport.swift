import Foundation
import VirtualBusMQTT

/// Says on the terminal what happens to the bridge's broker connection and outage buffer: every
/// failed attempt (at most one line a second, so a tight retry loop cannot flood the terminal), a
/// lost connection, a reconnect with what it resent, and the first drop of a full outage buffer.
struct BridgeEventReport {
    /// The broker of the latest connection (with several `--broker` URLs, the node it moved to).
    private(set) var address: String
    let bufferPolicy: String
    private var lastFailureLine: ContinuousClock.Instant?
    private var unreportedFailures = 0

    init(address: String, bufferPolicy: String) {
        self.address = address
        self.bufferPolicy = bufferPolicy
    }

    /// Prints the events of `client` until it ends.
    static func run(_ client: MQTTClient, address: String, bufferPolicy: String) async {
        var report = BridgeEventReport(address: address, bufferPolicy: bufferPolicy)
        for await event in client.events() {
            // Read at CONNACK, when the client is still on the broker that answered.
            if case .connected = event { report.address = client.currentEndpoint.description }
            if let line = report.line(for: event, now: .now) { Output.status("vbus bridge: \(line)") }
        }
    }

    /// The line for `event`, or `nil` when it is held back by the rate limit.
    mutating func line(for event: MQTTClientEvent, now: ContinuousClock.Instant) -> String? {
        switch event {
        case .connectFailed(let error, let retryIn):
            if let last = lastFailureLine, now - last < .seconds(1), retryIn != nil {
                unreportedFailures += 1
                return nil
            }
            lastFailureLine = now
            let earlier =
                unreportedFailures > 0 ? " (\(unreportedFailures) more attempt(s) failed since the last line)" : ""
            unreportedFailures = 0
            return "\(error.message)\(Self.next(retryIn, "retrying"))\(earlier)"
        case .connectionLost(let error, let retryIn):
            lastFailureLine = nil
            return "lost the connection to \(address): \(error.message)\(Self.next(retryIn, "reconnecting"))"
        case .connected(let sessionPresent, let downtime, let resent):
            lastFailureLine = nil
            unreportedFailures = 0
            guard let downtime else { return "connected to \(address)" }
            let session = sessionPresent ? "session resumed" : "new session (the broker had none for us)"
            return "reconnected after \(Self.seconds(downtime)) to \(address), resent \(resent) in-flight; \(session)"
        case .publishQueueOverflow(let capacity, _):
            let dropping = bufferPolicy == "drop-newest" ? "dropping new messages" : "dropping the oldest messages"
            return "warning: the outage buffer is full (\(capacity) messages) and is \(dropping); "
                + "--buffer N holds more, --buffer-policy wait holds the bus instead (see docs/bridge.md)"
        }
    }

    private static func next(_ delay: Duration?, _ verb: String) -> String {
        delay.map { "; \(verb) in \(seconds($0))" } ?? "; giving up"
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", value)
    }
}
