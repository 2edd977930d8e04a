/// The packet (or the will in CONNECT) a property list belongs to: it decides which property
/// identifiers may appear and which may repeat ([MQTT-2.2.2.2], the property table of MQTT 5.0).
enum MQTTPropertyContext: Sendable, CaseIterable {
    case connect, connack, publish, will
    /// PUBACK, PUBREC, PUBREL and PUBCOMP share one set.
    case acknowledgement
    case subscribe, suback, unsubscribe, unsuback, disconnect, auth

    var name: String {
        switch self {
        case .connect: "CONNECT"
        case .connack: "CONNACK"
        case .publish: "PUBLISH"
        case .will: "will properties"
        case .acknowledgement: "PUBACK/PUBREC/PUBREL/PUBCOMP"
        case .subscribe: "SUBSCRIBE"
        case .suback: "SUBACK"
        case .unsubscribe: "UNSUBSCRIBE"
        case .unsuback: "UNSUBACK"
        case .disconnect: "DISCONNECT"
        case .auth: "AUTH"
        }
    }

    /// Identifiers allowed here, one bit per identifier value (all are below 64).
    private var allowedMask: UInt64 {
        typealias P = MQTTPropertyIdentifier
        func mask(_ ids: P...) -> UInt64 { ids.reduce(UInt64(1) << P.userProperty.rawValue) { $0 | 1 << $1.rawValue } }
        return switch self {
        case .connect:
            mask(
                .sessionExpiryInterval, .authenticationMethod, .authenticationData, .requestProblemInformation,
                .requestResponseInformation, .receiveMaximum, .topicAliasMaximum, .maximumPacketSize)
        case .connack:
            mask(
                .sessionExpiryInterval, .assignedClientIdentifier, .serverKeepAlive, .authenticationMethod,
                .authenticationData, .responseInformation, .serverReference, .reasonString, .receiveMaximum,
                .topicAliasMaximum, .maximumQoS, .retainAvailable, .maximumPacketSize, .wildcardSubscriptionAvailable,
                .subscriptionIdentifierAvailable, .sharedSubscriptionAvailable)
        case .publish:
            mask(
                .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic, .correlationData,
                .subscriptionIdentifier, .topicAlias)
        case .will:
            mask(
                .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic, .correlationData,
                .willDelayInterval)
        case .acknowledgement, .suback, .unsuback: mask(.reasonString)
        case .subscribe: mask(.subscriptionIdentifier)
        case .unsubscribe: mask()
        case .disconnect: mask(.sessionExpiryInterval, .serverReference, .reasonString)
        case .auth: mask(.authenticationMethod, .authenticationData, .reasonString)
        }
    }

    /// Whether `identifier` may appear in this packet.
    func allows(_ identifier: MQTTPropertyIdentifier) -> Bool {
        identifier.rawValue < 64 && allowedMask & (1 << identifier.rawValue) != 0
    }

    /// Whether `identifier` may appear more than once: user properties anywhere, subscription
    /// identifiers in a PUBLISH from the server (one per matching subscription, [MQTT-3.3.4-4]);
    /// everything else at most once ([MQTT-2.2.2-2], [MQTT-3.8.2.1.2]).
    func allowsRepeated(_ identifier: MQTTPropertyIdentifier) -> Bool {
        identifier == .userProperty || (identifier == .subscriptionIdentifier && self == .publish)
    }
}

extension MQTTProperties {
    /// Checks properties the application supplies for an outgoing packet, before anything is sent:
    /// only identifiers allowed in `context`, none repeated that must not be, and in a PUBLISH
    /// from the client no Subscription Identifier ([MQTT-3.3.4-6]) and no Topic Alias (this
    /// client does not send aliases).
    /// - Throws: ``MQTTError`` with code ``MQTTError/Code/invalidProperty``.
    func validateOutbound(for context: MQTTPropertyContext) throws(MQTTError) {
        var seen: UInt64 = 0
        for property in elements {
            let id = property.identifier
            let forbidden = context == .publish && (id == .subscriptionIdentifier || id == .topicAlias)
            guard context.allows(id), !forbidden else {
                throw MQTTError(
                    .invalidProperty, "property \(id) is not allowed in \(context.name) sent by a client [MQTT-2.2.2]")
            }
            if !context.allowsRepeated(id) {
                if seen & (1 << id.rawValue) != 0 {
                    throw MQTTError(
                        .invalidProperty, "property \(id) appears more than once in \(context.name) [MQTT-2.2.2-2]")
                }
                seen |= 1 << id.rawValue
            }
        }
    }
}
