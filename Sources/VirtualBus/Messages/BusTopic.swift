/// Rules for bus topics and subscription prefixes.
///
/// A topic is non-empty UTF-8 without NUL characters, at most ``maximumLength`` bytes: the same
/// shape an MQTT topic name may have, so every bus topic can be bridged. Topics that start with NUL
/// are reserved for the bus's own control traffic (subscription handshakes).
public enum BusTopic {
    /// The longest topic or prefix, in UTF-8 bytes (MQTT's limit, so bridging never truncates).
    public static let maximumLength = 65_535

    /// The topic on which subscriptions confirm they have reached the proxy.
    static let handshakeTopic: [UInt8] = Array("\u{0}vbus/handshake".utf8)

    /// Checks a topic that will be published.
    public static func validate(topic: String) throws(BusError) {
        guard !topic.isEmpty else { throw BusError(.invalidTopic, "a topic must not be empty") }
        try validate(prefix: topic)
    }

    /// Checks a subscription prefix (the empty prefix subscribes to everything).
    public static func validate(prefix: String) throws(BusError) {
        let utf8 = prefix.utf8
        guard utf8.count <= maximumLength else {
            throw BusError(.invalidTopic, "topic is \(utf8.count) bytes, over the \(maximumLength)-byte limit")
        }
        guard !utf8.contains(0) else {
            throw BusError(
                .invalidTopic, "topic '\(prefix.debugDescription.dropFirst().dropLast())' contains a NUL character")
        }
    }
}
