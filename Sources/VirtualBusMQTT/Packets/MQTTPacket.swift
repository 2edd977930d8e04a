internal import NIOCore

/// Every MQTT control packet, both directions ([MQTT-2.1.2]).
enum MQTTPacket: Sendable, Hashable {
    case connect(ConnectPacket)
    case connack(ConnAckPacket)
    case publish(PublishPacket)
    case puback(AckPacket)
    case pubrec(AckPacket)
    case pubrel(AckPacket)
    case pubcomp(AckPacket)
    case subscribe(SubscribePacket)
    case suback(SubAckPacket)
    case unsubscribe(UnsubscribePacket)
    case unsuback(SubAckPacket)
    case pingreq
    case pingresp
    case disconnect(ReasonPacket)
    case auth(ReasonPacket)

    /// The packet type in the high nibble of the first byte.
    var typeCode: UInt8 {
        switch self {
        case .connect: 1
        case .connack: 2
        case .publish: 3
        case .puback: 4
        case .pubrec: 5
        case .pubrel: 6
        case .pubcomp: 7
        case .subscribe: 8
        case .suback: 9
        case .unsubscribe: 10
        case .unsuback: 11
        case .pingreq: 12
        case .pingresp: 13
        case .disconnect: 14
        case .auth: 15
        }
    }

    /// A short name for logs and errors; never includes payload or credentials.
    var name: String {
        switch self {
        case .connect: "CONNECT"
        case .connack: "CONNACK"
        case .publish: "PUBLISH"
        case .puback: "PUBACK"
        case .pubrec: "PUBREC"
        case .pubrel: "PUBREL"
        case .pubcomp: "PUBCOMP"
        case .subscribe: "SUBSCRIBE"
        case .suback: "SUBACK"
        case .unsubscribe: "UNSUBSCRIBE"
        case .unsuback: "UNSUBACK"
        case .pingreq: "PINGREQ"
        case .pingresp: "PINGRESP"
        case .disconnect: "DISCONNECT"
        case .auth: "AUTH"
        }
    }
}

/// A will message carried by CONNECT.
public struct MQTTWill: Sendable, Hashable {
    /// Where the broker publishes the will.
    public var topic: MQTTTopic
    /// The will payload.
    public var payload: [UInt8]
    /// The will QoS.
    public var qos: MQTTQoS
    /// Whether the will is retained.
    public var retain: Bool
    /// Will properties (MQTT 5 only), e.g. `.willDelayInterval`.
    public var properties: MQTTProperties

    /// Creates a will message.
    public init(
        topic: MQTTTopic, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
        properties: MQTTProperties = []
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// CONNECT ([MQTT-3.1]).
struct ConnectPacket: Sendable, Hashable {
    var version: MQTTProtocolVersion
    var clientID: String
    var cleanStart: Bool
    var keepAliveSeconds: UInt16
    var username: String?
    var password: [UInt8]?
    var will: MQTTWill?
    var properties: MQTTProperties = []
}

/// CONNACK ([MQTT-3.2]). MQTT 3.1.1 return codes are mapped to their 5.0 reason codes.
struct ConnAckPacket: Sendable, Hashable {
    var sessionPresent: Bool
    var reasonCode: MQTTReasonCode
    var properties: MQTTProperties = []
}

/// PUBLISH ([MQTT-3.3]).
struct PublishPacket: Sendable, Hashable {
    /// Empty only when a topic alias stands for it (MQTT 5).
    var topic: String
    var payload: ByteBuffer
    var qos: MQTTQoS
    var retain: Bool = false
    var dup: Bool = false
    /// Present exactly when `qos > 0` ([MQTT-2.2.1-2]).
    var packetID: UInt16?
    var properties: MQTTProperties = []
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape ([MQTT-3.4] to [MQTT-3.7]).
struct AckPacket: Sendable, Hashable {
    var packetID: UInt16
    var reasonCode: MQTTReasonCode = .success
    var properties: MQTTProperties = []
}

/// Subscription options of one SUBSCRIBE entry ([MQTT-3.8.3.1]).
public struct MQTTSubscriptionOptions: Sendable, Hashable {
    /// How retained messages are sent when the subscription is made (MQTT 5).
    public struct RetainHandling: RawRepresentable, Sendable, Hashable {
        /// The two-bit wire value.
        public var rawValue: UInt8
        /// Creates a value from its wire bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Send retained messages at subscribe time.
        public static let sendOnSubscribe = RetainHandling(rawValue: 0)
        /// Send them only when the subscription did not already exist.
        public static let sendOnSubscribeIfNew = RetainHandling(rawValue: 1)
        /// Never send retained messages at subscribe time.
        public static let doNotSend = RetainHandling(rawValue: 2)
    }

    /// The maximum QoS the broker may deliver with.
    public var qos: MQTTQoS
    /// MQTT 5: do not deliver this client's own publishes back to it.
    public var noLocal: Bool
    /// MQTT 5: keep the RETAIN flag as published instead of clearing it on forwarding.
    public var retainAsPublished: Bool
    /// MQTT 5: what to do with retained messages at subscribe time.
    public var retainHandling: RetainHandling

    /// Creates subscription options.
    public init(
        qos: MQTTQoS = .exactlyOnce, noLocal: Bool = false, retainAsPublished: Bool = false,
        retainHandling: RetainHandling = .sendOnSubscribe
    ) {
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }
}

/// SUBSCRIBE ([MQTT-3.8]).
struct SubscribePacket: Sendable, Hashable {
    var packetID: UInt16
    var subscriptions: [(filter: MQTTTopicFilter, options: MQTTSubscriptionOptions)]
    var properties: MQTTProperties = []

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.packetID == rhs.packetID && lhs.properties == rhs.properties
            && lhs.subscriptions.elementsEqual(rhs.subscriptions) { $0.filter == $1.filter && $0.options == $1.options }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(packetID)
        for s in subscriptions {
            hasher.combine(s.filter)
            hasher.combine(s.options)
        }
    }
}

/// SUBACK and UNSUBACK ([MQTT-3.9], [MQTT-3.11]); a 3.1.1 UNSUBACK has no reason codes.
struct SubAckPacket: Sendable, Hashable {
    var packetID: UInt16
    var reasonCodes: [MQTTReasonCode]
    var properties: MQTTProperties = []
}

/// UNSUBSCRIBE ([MQTT-3.10]).
struct UnsubscribePacket: Sendable, Hashable {
    var packetID: UInt16
    var filters: [MQTTTopicFilter]
    var properties: MQTTProperties = []
}

/// DISCONNECT and AUTH: a reason code and properties (MQTT 5); empty on 3.1.1 ([MQTT-3.14], [MQTT-3.15]).
struct ReasonPacket: Sendable, Hashable {
    var reasonCode: MQTTReasonCode = .success
    var properties: MQTTProperties = []
}
