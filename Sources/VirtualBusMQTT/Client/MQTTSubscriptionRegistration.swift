/// A subscription the client has registered, whose broker subscriptions may still be on their way
/// (package-internal: the bridge registers its inbound subscriptions before the session starts).
package struct MQTTSubscriptionRegistration: Sendable {
    let core: ClientCore
    let registration: ClientCore.Registration

    /// Waits for the broker's SUBACKs (sent right after CONNACK when the session was not connected).
    /// - Throws: ``MQTTError``: `brokerRejected` with the broker's reason code, or the session's error.
    package func subscribed() async throws(MQTTError) -> MQTTSubscription {
        try await core.completeSubscription(registration)
    }

    /// Releases the subscription without waiting for it (a bridge whose start failed).
    package func cancel() {
        core.releaseNow(registration.id)
    }
}
