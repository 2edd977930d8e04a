/// A validated MQTT topic name: the topic a message is published to ([MQTT-4.7]).
///
/// Validation happens once, at construction, so every publish path can rely on it:
/// non-empty ([MQTT-4.7.3-1]), no wildcard characters ([MQTT-3.3.2-2]), no U+0000
/// ([MQTT-4.7.3-2]) and at most 65,535 bytes of UTF-8 ([MQTT-4.7.3-3]).
public struct MQTTTopic: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The topic as a string.
    public let name: String

    /// Validates `name` as a topic name.
    /// - Throws: ``MQTTError`` with code ``MQTTError/Code/invalidTopic`` naming the rule broken.
    public init(_ name: String) throws(MQTTError) {
        if let rule = MQTTTopic.violation(name) {
            throw MQTTError(.invalidTopic, "invalid topic name: \(rule)")
        }
        self.name = name
    }

    /// Creates a topic from a literal; a literal that is not a valid topic is a programmer error.
    public init(stringLiteral value: String) {
        precondition(MQTTTopic.violation(value) == nil, "invalid MQTT topic literal")
        self.name = value
    }

    init(unchecked name: String) { self.name = name }

    /// The topic string.
    public var description: String { name }

    static func violation(_ name: String) -> String? {
        if name.isEmpty { return "empty [MQTT-4.7.3-1]" }
        if name.utf8.count > 65_535 { return "longer than 65535 bytes [MQTT-4.7.3-3]" }
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "+"), UInt8(ascii: "#"): return "wildcard in a topic name [MQTT-3.3.2-2]"
            case 0: return "contains U+0000 [MQTT-4.7.3-2]"
            default: continue
            }
        }
        return nil
    }
}
