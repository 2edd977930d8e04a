import BrokerLauncher

/// The tests' brokers are the library's own ``PrivateBroker``: a real mosquitto on a free
/// loopback port, ready when mosquitto itself listens (never after a sleep), and a failure with
/// mosquitto's own error, never a skip, when it is missing or does not come up.
extension PrivateBroker {
    /// Runs `body` with a fresh broker and always stops it afterwards.
    ///
    /// - Parameters:
    ///   - extraConfig: lines for mosquitto's configuration (TLS, a password file), after ours.
    ///   - persistence: sessions and queued messages saved on every change, for restarts.
    static func with<R>(
        extraConfig: String = "", persistence: Bool = false,
        _ body: (PrivateBroker) async throws -> R
    ) async throws -> R {
        // No limit on the messages in flight to one client (the concurrency tests keep hundreds in
        // flight), except with persistence, where PrivateBroker's limit decides what a restart restores.
        let inflight = persistence ? "" : "max_inflight_messages 0\n"
        // 30 s: a loaded CI machine starts processes slowly.
        let broker = try await PrivateBroker.started(
            extraConfiguration: inflight + extraConfig, persistence: persistence,
            timeout: .seconds(30))
        defer { broker.stop() }
        return try await body(broker)
    }
}
