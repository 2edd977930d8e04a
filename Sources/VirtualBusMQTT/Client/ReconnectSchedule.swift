/// Whether, and after how long, the client tries again once a connection attempt failed or an
/// established connection was lost: a value type with no I/O, unit-tested on its own. The delays
/// are the policy's (exponential backoff with full jitter); the attempt count starts again at
/// every established connection.
struct ReconnectSchedule {
    let policy: MQTTReconnectPolicy?
    /// Attempts since the last established connection.
    private(set) var attempt = 0
    /// Whether some connection was established (TLS failures are final only before that).
    private(set) var everConnected = false

    init(policy: MQTTReconnectPolicy?) {
        self.policy = policy
    }

    /// A connection was established.
    mutating func connected() {
        attempt = 0
        everConnected = true
    }

    /// The delay before the next attempt after `error`, or `nil`: give up with `error` (no
    /// policy, its attempts used up, or a failure no reconnect can mend).
    mutating func delay(after error: MQTTError, using rng: inout some RandomNumberGenerator) -> Duration? {
        guard let policy, policy.maximumAttempts.map({ attempt < $0 }) ?? true,
            !Self.isFinal(error, everConnected: everConnected)
        else {
            return nil
        }
        defer { attempt += 1 }
        return policy.delay(attempt: attempt, using: &rng)
    }

    /// Failures that no reconnect can mend, so they end the client even with a reconnect policy.
    ///
    /// A refused CONNACK (bad user name or password, not authorised, banned, ...) has already ended
    /// the session in the state machine, which cannot be connected again (reconnecting it was a
    /// crash); only "server unavailable", "server busy" and "connection rate exceeded" are retried,
    /// as a broker that is starting or shedding load says them. A TLS failure before the first
    /// connection is a configuration error (an untrusted certificate, a wrong host name, an
    /// unreadable CA file): retrying would only hide its reason behind a connect timeout. Once
    /// connected, TLS failures are retried like any lost connection.
    static func isFinal(_ error: MQTTError, everConnected: Bool) -> Bool {
        if error.code == .unsupportedProtocolVersion { return true }
        if error.code == .connectionRefused { return !(error.reasonCode?.isTransientRefusal ?? false) }
        return error.code == .tls && !everConnected
    }
}
