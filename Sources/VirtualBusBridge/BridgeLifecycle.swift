/// Where a bridge is in its life: a value-type state machine kept behind the bridge's lock. Each
/// event returns what the bridge must do, and the bridge does it after the lock is released.
///
/// ```
/// idle -> starting -> relaying -> draining -> stopped
///             \______________________________/^   (a stop or a failure while starting)
/// ```
struct BridgeLifecycle: Sendable {
    enum Phase: Sendable, Hashable {
        /// `run()` has not been called.
        case idle
        /// Registering subscriptions, waiting for the first connection and the SUBACKs.
        case starting
        /// Both sides' subscriptions are in place: messages are relayed.
        case relaying
        /// Taking no more messages; waiting for what is in flight.
        case draining
        /// The session and (when the bridge owns it) the bus are shut down.
        case stopped
    }

    /// What the bridge does when a stop is asked for.
    enum StopAction: Sendable, Hashable {
        /// Nothing: the bridge is stopping, or stopped, already.
        case none
        /// End the MQTT session: that ends whatever the start is waiting for, and the start stops.
        case endSession
        /// Stop taking messages and drain (the relays are running).
        case drain
    }

    /// What the bridge does once its start is done.
    enum StartOutcome: Sendable, Hashable {
        /// Relay.
        case relay
        /// A stop came during the start: stop without relaying.
        case stop
    }

    private(set) var phase = Phase.idle
    private var stopRequested = false

    /// Whether messages are relayed now.
    var isRelaying: Bool { phase == .relaying }

    /// `run()` begins. It runs once: a second call is a programmer error.
    mutating func runStarted() {
        precondition(phase == .idle, "MQTTBridge.run() can be called only once")
        phase = .starting
    }

    /// A graceful shutdown, a cancellation or the end of the session asks the bridge to stop.
    mutating func stop() -> StopAction {
        switch phase {
        case .idle, .starting:
            guard !stopRequested else { return .none }
            stopRequested = true
            return phase == .starting ? .endSession : .none
        case .relaying:
            phase = .draining
            return .drain
        case .draining, .stopped:
            return .none
        }
    }

    /// The MQTT session ended on its own (a lost broker with no reconnect policy, or its attempts
    /// used up). While relaying, the bridge stops in order; during the start, the start fails
    /// with the session's error (this is no stop asked for).
    mutating func sessionEnded() -> StopAction {
        guard phase == .relaying else { return .none }
        phase = .draining
        return .drain
    }

    /// Both sides' subscriptions are in place.
    mutating func started() -> StartOutcome {
        precondition(phase == .starting, "started() outside the start")
        if stopRequested {
            phase = .stopped
            return .stop
        }
        phase = .relaying
        return .relay
    }

    /// The start failed; whether a stop asked for during it was the cause (then `run()` returns
    /// normally instead of throwing).
    mutating func startFailed() -> Bool {
        phase = .stopped
        return stopRequested
    }

    /// What was in flight is finished (or its deadline passed); the session and the bus are next.
    mutating func drained() {
        phase = .stopped
    }
}
