/// When a subscription's QoS 1 and QoS 2 messages are acknowledged to the broker.
///
/// A struct with static members rather than an enum so that adding a mode breaks no caller.
public struct MQTTAcknowledgementMode: Sendable, Hashable, CustomStringConvertible {
    let isManual: Bool

    /// PUBACK / PUBREC go out as soon as the message is in the subscription buffer (the default).
    /// A message the buffer drops by policy, or that is buffered when the process dies, is lost.
    public static let automatic = MQTTAcknowledgementMode(isManual: false)

    /// PUBACK (QoS 1) / PUBREC (QoS 2) go out only when you call ``MQTTMessage/acknowledge()``.
    ///
    /// A message not acknowledged before its connection ends is redelivered by the broker with
    /// DUP set on a resumed session (clean start false, session expiry above zero), so nothing the
    /// application has not accepted is lost; it may see such a message twice. A QoS 2 message
    /// acknowledged once is never delivered again on that session (exactly once from the
    /// acknowledgement on). QoS 1/2 messages are never dropped by the buffer policy; how many can
    /// wait is bounded by the broker's flow control (see the "Acknowledging messages" article).
    public static let manual = MQTTAcknowledgementMode(isManual: true)

    /// The mode's name.
    public var description: String { isManual ? "manual" : "automatic" }
}
