/// One MQTT 5.0 property, typed by its identifier ([MQTT-2.2.2.2]).
public enum MQTTProperty: Sendable, Hashable {
    /// 0x01: 0 = unspecified bytes, 1 = UTF-8 payload.
    case payloadFormatIndicator(UInt8)
    /// 0x02: lifetime of the application message in seconds.
    case messageExpiryInterval(UInt32)
    /// 0x03: MIME-like content type of the payload.
    case contentType(String)
    /// 0x08: topic for a response (request/response).
    case responseTopic(String)
    /// 0x09: correlation data matching a response to its request.
    case correlationData([UInt8])
    /// 0x0B: subscription identifier (1 ... 268,435,455).
    case subscriptionIdentifier(UInt32)
    /// 0x11: session expiry interval in seconds.
    case sessionExpiryInterval(UInt32)
    /// 0x12: client identifier assigned by the server.
    case assignedClientIdentifier(String)
    /// 0x13: keep alive the server wants the client to use.
    case serverKeepAlive(UInt16)
    /// 0x15: extended authentication method.
    case authenticationMethod(String)
    /// 0x16: extended authentication data.
    case authenticationData([UInt8])
    /// 0x17: request problem information (0 or 1).
    case requestProblemInformation(UInt8)
    /// 0x18: will delay interval in seconds.
    case willDelayInterval(UInt32)
    /// 0x19: request response information (0 or 1).
    case requestResponseInformation(UInt8)
    /// 0x1A: response information.
    case responseInformation(String)
    /// 0x1C: server reference.
    case serverReference(String)
    /// 0x1F: human-readable reason string.
    case reasonString(String)
    /// 0x21: how many QoS 1/2 publishes the sender accepts in flight.
    case receiveMaximum(UInt16)
    /// 0x22: highest topic alias the sender accepts.
    case topicAliasMaximum(UInt16)
    /// 0x23: topic alias of this publish.
    case topicAlias(UInt16)
    /// 0x24: maximum QoS the server supports (0 or 1).
    case maximumQoS(UInt8)
    /// 0x25: whether the server supports retained messages.
    case retainAvailable(UInt8)
    /// 0x26: a user property; may appear any number of times, order kept.
    case userProperty(name: String, value: String)
    /// 0x27: largest packet the sender accepts.
    case maximumPacketSize(UInt32)
    /// 0x28: whether wildcard subscriptions are available.
    case wildcardSubscriptionAvailable(UInt8)
    /// 0x29: whether subscription identifiers are available.
    case subscriptionIdentifierAvailable(UInt8)
    /// 0x2A: whether shared subscriptions are available.
    case sharedSubscriptionAvailable(UInt8)

    /// The identifier this property is written with.
    public var identifier: MQTTPropertyIdentifier {
        switch self {
        case .payloadFormatIndicator: .payloadFormatIndicator
        case .messageExpiryInterval: .messageExpiryInterval
        case .contentType: .contentType
        case .responseTopic: .responseTopic
        case .correlationData: .correlationData
        case .subscriptionIdentifier: .subscriptionIdentifier
        case .sessionExpiryInterval: .sessionExpiryInterval
        case .assignedClientIdentifier: .assignedClientIdentifier
        case .serverKeepAlive: .serverKeepAlive
        case .authenticationMethod: .authenticationMethod
        case .authenticationData: .authenticationData
        case .requestProblemInformation: .requestProblemInformation
        case .willDelayInterval: .willDelayInterval
        case .requestResponseInformation: .requestResponseInformation
        case .responseInformation: .responseInformation
        case .serverReference: .serverReference
        case .reasonString: .reasonString
        case .receiveMaximum: .receiveMaximum
        case .topicAliasMaximum: .topicAliasMaximum
        case .topicAlias: .topicAlias
        case .maximumQoS: .maximumQoS
        case .retainAvailable: .retainAvailable
        case .userProperty: .userProperty
        case .maximumPacketSize: .maximumPacketSize
        case .wildcardSubscriptionAvailable: .wildcardSubscriptionAvailable
        case .subscriptionIdentifierAvailable: .subscriptionIdentifierAvailable
        case .sharedSubscriptionAvailable: .sharedSubscriptionAvailable
        }
    }
}
