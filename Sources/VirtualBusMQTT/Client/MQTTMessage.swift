/// A message delivered to a subscription.
///
/// Equality and hashing compare the message's content (topic, payload, QoS, flags, properties),
/// not the acknowledgement handle a manual subscription attaches.
public struct MQTTMessage: Sendable, Hashable {
    /// The topic it was published to (resolved from a topic alias if the broker used one).
    public var topic: MQTTTopic
    /// The payload bytes.
    public var payload: [UInt8]
    /// The QoS it was delivered with.
    public var qos: MQTTQoS
    /// Whether it is a retained message.
    public var retain: Bool
    /// The broker's DUP flag: this is a redelivery of a QoS 1/2 message that an earlier connection
    /// did not acknowledge (for example after a reconnect with an unacknowledged manual message).
    public var isDuplicate: Bool
    /// MQTT 5 properties (response topic, correlation data, user properties, ...); empty on 3.1.1.
    public var properties: MQTTProperties
    /// Set on QoS 1/2 messages of a ``MQTTAcknowledgementMode/manual`` subscription.
    var acknowledgement: MQTTInboundAcknowledgement?

    /// Creates a message.
    public init(
        topic: MQTTTopic, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
        isDuplicate: Bool = false, properties: MQTTProperties = []
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.isDuplicate = isDuplicate
        self.properties = properties
    }

    /// Whether the broker waits for ``acknowledge()``: a QoS 1/2 message delivered to a
    /// ``MQTTAcknowledgementMode/manual`` subscription. False for every other message.
    public var requiresAcknowledgement: Bool { acknowledgement != nil }

    /// Tells the broker that the application accepted this message: sends PUBACK (QoS 1) or
    /// PUBREC (QoS 2) once every manual subscription that received the message acknowledged it.
    ///
    /// Idempotent, non-blocking, callable from any task; a no-op for messages that do not
    /// ``requiresAcknowledgement``. When the connection that delivered a QoS 1 message has
    /// ended, nothing is sent: the broker redelivers it (``isDuplicate`` set) on the resumed
    /// session, and that copy is acknowledged instead. A QoS 2 message stays this copy's across
    /// reconnects of a resumed session: the broker's resend is not delivered again, and the
    /// PUBREC goes out on whichever connection is current (see <doc:Acknowledgement>).
    public func acknowledge() { acknowledgement?.acknowledge() }

    /// Content equality; the acknowledgement handle is not compared.
    public static func == (lhs: MQTTMessage, rhs: MQTTMessage) -> Bool {
        lhs.topic == rhs.topic && lhs.payload == rhs.payload && lhs.qos == rhs.qos && lhs.retain == rhs.retain
            && lhs.isDuplicate == rhs.isDuplicate && lhs.properties == rhs.properties
    }

    /// Hashes the content; the acknowledgement handle is not hashed.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(topic)
        hasher.combine(payload)
        hasher.combine(qos)
        hasher.combine(retain)
        hasher.combine(isDuplicate)
        hasher.combine(properties)
    }
}

/// How a publish ended: the QoS flow completed and the broker answered with `reasonCode`.
public struct MQTTPublishResult: Sendable, Hashable {
    /// The QoS the message was published with.
    public var qos: MQTTQoS
    /// `.success` for QoS 0 (written) or the broker's PUBACK / PUBREC reason code (always
    /// `.success` on 3.1.1); `.noMatchingSubscribers` is a success.
    public var reasonCode: MQTTReasonCode
    /// Properties of the acknowledgement (reason string, user properties); empty on 3.1.1.
    public var properties: MQTTProperties

    /// Creates a result.
    public init(qos: MQTTQoS, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = []) {
        self.qos = qos
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
