/// Reconnect with exponential backoff and full jitter.
public struct MQTTReconnectPolicy: Sendable, Hashable {
    /// First delay.
    public var initialDelay: Duration
    /// Largest delay.
    public var maximumDelay: Duration
    /// Give up after this many consecutive failed attempts (`nil` = never).
    public var maximumAttempts: Int?
    /// Resume the broker's session on every reconnect (default true), so QoS 1/2 publishes in
    /// flight when the connection broke are finished as the protocol intends: resent with DUP, or
    /// released with PUBREL once past PUBREC. Without it a reconnect starts a new session, and a
    /// QoS 2 publish past PUBREC fails with ``MQTTError/Code/sessionLost``.
    ///
    /// With MQTT 5, only the first connection follows ``MQTTClientConfiguration/cleanStart``; the
    /// session is kept for ``resumableSessionExpiry`` after a lost connection (if the configured
    /// expiry is shorter), and the graceful DISCONNECT sets the configured expiry back. MQTT 3.1.1
    /// cannot resume a clean session, so every CONNECT has CleanSession 0: the broker keeps the
    /// session (subscriptions, queued messages) after the client ends, as for any persistent
    /// 3.1.1 client, until the broker's own expiry (mosquitto: `persistent_client_expiration`).
    public var resumesSession: Bool
    /// MQTT 5: seconds the broker keeps the session after a lost connection while reconnecting
    /// (default 3,600), when ``MQTTClientConfiguration/sessionExpiry`` is shorter.
    public var resumableSessionExpiry: UInt32

    /// Creates a policy.
    public init(
        initialDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(30), maximumAttempts: Int? = nil,
        resumesSession: Bool = true, resumableSessionExpiry: UInt32 = 3_600
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
        self.resumesSession = resumesSession
        self.resumableSessionExpiry = resumableSessionExpiry
    }

    /// The delay before attempt `attempt` (0-based): uniform in [0, min(max, initial * 2^attempt)].
    func delay(attempt: Int, using rng: inout some RandomNumberGenerator) -> Duration {
        let cap = min(maximumDelay, initialDelay * (1 << min(attempt, 20)))
        let ns = cap.components.seconds * 1_000_000_000 + cap.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(0, ns), using: &rng))
    }
}
