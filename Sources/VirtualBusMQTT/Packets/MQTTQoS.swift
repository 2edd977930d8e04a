/// The quality of service of a publish or subscription.
///
/// A closed enum rather than an open struct: the spec makes any other value a malformed packet
/// ([MQTT-3.3.1-4]), so an unknown QoS never has to survive decoding.
public enum MQTTQoS: UInt8, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// At most once: the publish completes when it is written.
    case atMostOnce = 0
    /// At least once: the publish completes on PUBACK.
    case atLeastOnce = 1
    /// Exactly once: the publish completes on PUBCOMP.
    case exactlyOnce = 2

    /// Orders by delivery guarantee.
    public static func < (lhs: MQTTQoS, rhs: MQTTQoS) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `QoS 0`, `QoS 1` or `QoS 2`.
    public var description: String { "QoS \(rawValue)" }
}
