/// The identifier byte of an MQTT 5.0 property ([MQTT-2.2.2]).
///
/// Open so that an unknown identifier can be reported in an error; the decoder still rejects it
/// as a malformed packet, because the spec gives no way to skip a property of unknown type.
public struct MQTTPropertyIdentifier: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The identifier as written on the wire (a variable byte integer that always fits in one byte).
    public var rawValue: UInt8

    /// Creates an identifier from its wire value.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    static let payloadFormatIndicator = Self(rawValue: 0x01)
    static let messageExpiryInterval = Self(rawValue: 0x02)
    static let contentType = Self(rawValue: 0x03)
    static let responseTopic = Self(rawValue: 0x08)
    static let correlationData = Self(rawValue: 0x09)
    static let subscriptionIdentifier = Self(rawValue: 0x0B)
    static let sessionExpiryInterval = Self(rawValue: 0x11)
    static let assignedClientIdentifier = Self(rawValue: 0x12)
    static let serverKeepAlive = Self(rawValue: 0x13)
    static let authenticationMethod = Self(rawValue: 0x15)
    static let authenticationData = Self(rawValue: 0x16)
    static let requestProblemInformation = Self(rawValue: 0x17)
    static let willDelayInterval = Self(rawValue: 0x18)
    static let requestResponseInformation = Self(rawValue: 0x19)
    static let responseInformation = Self(rawValue: 0x1A)
    static let serverReference = Self(rawValue: 0x1C)
    static let reasonString = Self(rawValue: 0x1F)
    static let receiveMaximum = Self(rawValue: 0x21)
    static let topicAliasMaximum = Self(rawValue: 0x22)
    static let topicAlias = Self(rawValue: 0x23)
    static let maximumQoS = Self(rawValue: 0x24)
    static let retainAvailable = Self(rawValue: 0x25)
    static let userProperty = Self(rawValue: 0x26)
    static let maximumPacketSize = Self(rawValue: 0x27)
    static let wildcardSubscriptionAvailable = Self(rawValue: 0x28)
    static let subscriptionIdentifierAvailable = Self(rawValue: 0x29)
    static let sharedSubscriptionAvailable = Self(rawValue: 0x2A)

    /// The identifier in hexadecimal.
    public var description: String { "0x" + String(rawValue, radix: 16, uppercase: true) }
}
