/// The MQTT protocol level a connection speaks, chosen per connection.
///
/// An open `RawRepresentable` struct, so a level this client does not know can still be carried.
public struct MQTTProtocolVersion: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The protocol level byte from the CONNECT variable header.
    public var rawValue: UInt8

    /// Creates a version from its protocol level byte.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// MQTT 3.1.1 (protocol level 4).
    public static let v3_1_1 = MQTTProtocolVersion(rawValue: 4)
    /// MQTT 5.0 (protocol level 5).
    public static let v5 = MQTTProtocolVersion(rawValue: 5)

    /// `3.1.1`, `5.0`, or the raw level.
    public var description: String {
        switch self {
        case .v3_1_1: "3.1.1"
        case .v5: "5.0"
        default: "level \(rawValue)"
        }
    }
}
