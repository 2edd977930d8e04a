/// An MQTT 5.0 reason code (and the MQTT 3.1.1 return codes mapped onto it).
///
/// An open `RawRepresentable` struct: a code this client does not know is kept as its raw byte
/// instead of failing the decode, so a newer broker never breaks an older client.
public struct MQTTReasonCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The byte on the wire.
    public var rawValue: UInt8

    /// Creates a reason code from its wire byte.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Codes of 0x80 and above report failure ([MQTT-2.4]).
    public var isFailure: Bool { rawValue >= 0x80 }

    /// Success, normal disconnection or granted QoS 0.
    public static let success = MQTTReasonCode(rawValue: 0x00)
    /// Granted QoS 1 (SUBACK).
    public static let grantedQoS1 = MQTTReasonCode(rawValue: 0x01)
    /// Granted QoS 2 (SUBACK).
    public static let grantedQoS2 = MQTTReasonCode(rawValue: 0x02)
    /// Disconnect with will message (DISCONNECT).
    public static let disconnectWithWillMessage = MQTTReasonCode(rawValue: 0x04)
    /// No matching subscribers (PUBACK, PUBREC).
    public static let noMatchingSubscribers = MQTTReasonCode(rawValue: 0x10)
    /// No subscription existed (UNSUBACK).
    public static let noSubscriptionExisted = MQTTReasonCode(rawValue: 0x11)
    /// Continue authentication (AUTH).
    public static let continueAuthentication = MQTTReasonCode(rawValue: 0x18)
    /// Re-authenticate (AUTH).
    public static let reAuthenticate = MQTTReasonCode(rawValue: 0x19)
    /// Unspecified error.
    public static let unspecifiedError = MQTTReasonCode(rawValue: 0x80)
    /// Malformed packet.
    public static let malformedPacket = MQTTReasonCode(rawValue: 0x81)
    /// Protocol error.
    public static let protocolError = MQTTReasonCode(rawValue: 0x82)
    /// Implementation specific error.
    public static let implementationSpecificError = MQTTReasonCode(rawValue: 0x83)
    /// Unsupported protocol version.
    public static let unsupportedProtocolVersion = MQTTReasonCode(rawValue: 0x84)
    /// Client identifier not valid.
    public static let clientIdentifierNotValid = MQTTReasonCode(rawValue: 0x85)
    /// Bad user name or password.
    public static let badUserNameOrPassword = MQTTReasonCode(rawValue: 0x86)
    /// Not authorized.
    public static let notAuthorized = MQTTReasonCode(rawValue: 0x87)
    /// Server unavailable.
    public static let serverUnavailable = MQTTReasonCode(rawValue: 0x88)
    /// Server busy.
    public static let serverBusy = MQTTReasonCode(rawValue: 0x89)
    /// Banned.
    public static let banned = MQTTReasonCode(rawValue: 0x8A)
    /// Server shutting down.
    public static let serverShuttingDown = MQTTReasonCode(rawValue: 0x8B)
    /// Bad authentication method.
    public static let badAuthenticationMethod = MQTTReasonCode(rawValue: 0x8C)
    /// Keep alive timeout.
    public static let keepAliveTimeout = MQTTReasonCode(rawValue: 0x8D)
    /// Session taken over.
    public static let sessionTakenOver = MQTTReasonCode(rawValue: 0x8E)
    /// Topic filter invalid.
    public static let topicFilterInvalid = MQTTReasonCode(rawValue: 0x8F)
    /// Topic name invalid.
    public static let topicNameInvalid = MQTTReasonCode(rawValue: 0x90)
    /// Packet identifier in use.
    public static let packetIdentifierInUse = MQTTReasonCode(rawValue: 0x91)
    /// Packet identifier not found.
    public static let packetIdentifierNotFound = MQTTReasonCode(rawValue: 0x92)
    /// Receive Maximum exceeded.
    public static let receiveMaximumExceeded = MQTTReasonCode(rawValue: 0x93)
    /// Topic alias invalid.
    public static let topicAliasInvalid = MQTTReasonCode(rawValue: 0x94)
    /// Packet too large.
    public static let packetTooLarge = MQTTReasonCode(rawValue: 0x95)
    /// Message rate too high.
    public static let messageRateTooHigh = MQTTReasonCode(rawValue: 0x96)
    /// Quota exceeded.
    public static let quotaExceeded = MQTTReasonCode(rawValue: 0x97)
    /// Administrative action.
    public static let administrativeAction = MQTTReasonCode(rawValue: 0x98)
    /// Payload format invalid.
    public static let payloadFormatInvalid = MQTTReasonCode(rawValue: 0x99)
    /// Retain not supported.
    public static let retainNotSupported = MQTTReasonCode(rawValue: 0x9A)
    /// QoS not supported.
    public static let qosNotSupported = MQTTReasonCode(rawValue: 0x9B)
    /// Use another server.
    public static let useAnotherServer = MQTTReasonCode(rawValue: 0x9C)
    /// Server moved.
    public static let serverMoved = MQTTReasonCode(rawValue: 0x9D)
    /// Shared subscriptions not supported.
    public static let sharedSubscriptionsNotSupported = MQTTReasonCode(rawValue: 0x9E)
    /// Connection rate exceeded.
    public static let connectionRateExceeded = MQTTReasonCode(rawValue: 0x9F)
    /// Maximum connect time.
    public static let maximumConnectTime = MQTTReasonCode(rawValue: 0xA0)
    /// Subscription identifiers not supported.
    public static let subscriptionIdentifiersNotSupported = MQTTReasonCode(rawValue: 0xA1)
    /// Wildcard subscriptions not supported.
    public static let wildcardSubscriptionsNotSupported = MQTTReasonCode(rawValue: 0xA2)

    /// The refusals of CONNACK a user can act on, in words (3.2.2.2; 3.1.1 return codes map onto
    /// them), so that "bad user name or password" is read in the error instead of a bare `0x86`.
    var refusalMeaning: String? {
        switch self {
        case .unsupportedProtocolVersion: "unsupported protocol version"
        case .clientIdentifierNotValid: "client identifier not valid"
        case .badUserNameOrPassword: "bad user name or password"
        case .notAuthorized: "not authorized"
        case .serverUnavailable: "server unavailable"
        case .serverBusy: "server busy"
        case .banned: "banned"
        case .badAuthenticationMethod: "bad authentication method"
        default: nil
        }
    }

    /// CONNACK refusals that say "not now" rather than "not you": a reconnect policy tries again.
    var isTransientRefusal: Bool {
        self == .serverUnavailable || self == .serverBusy || self == .connectionRateExceeded
    }

    /// The hexadecimal code, e.g. `0x87`.
    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return "0x" + (hex.count < 2 ? "0" + hex : hex)
    }
}
