/// A message delivered to a subscription.
public struct MQTTMessage: Sendable, Hashable {
    /// The topic it was published to (resolved from a topic alias if the broker used one).
    public var topic: MQTTTopic
    /// The payload bytes.
    public var payload: [UInt8]
    /// The QoS it was delivered with.
    public var qos: MQTTQoS
    /// Whether it is a retained message.
    public var retain: Bool
    /// MQTT 5 properties (response topic, correlation data, user properties, ...); empty on 3.1.1.
    public var properties: MQTTProperties

    /// Creates a message.
    public init(topic: MQTTTopic, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
                properties: MQTTProperties = []) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
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
