/// The properties of an MQTT 5.0 packet, in wire order.
///
/// A thin collection over ``MQTTProperty`` with typed accessors for the properties the client
/// acts on. On MQTT 3.1.1 connections properties are not sent and always decode as empty.
public struct MQTTProperties: Sendable, Hashable, ExpressibleByArrayLiteral, RandomAccessCollection {
    /// The properties in the order they appear on the wire.
    public var elements: [MQTTProperty]

    /// Creates a property list.
    public init(_ elements: [MQTTProperty] = []) { self.elements = elements }

    /// Creates a property list from a literal.
    public init(arrayLiteral elements: MQTTProperty...) { self.elements = elements }

    /// The first index.
    public var startIndex: Int { elements.startIndex }
    /// The end index.
    public var endIndex: Int { elements.endIndex }
    /// The property at `position`.
    public subscript(position: Int) -> MQTTProperty { elements[position] }

    /// Appends a property.
    public mutating func append(_ property: MQTTProperty) { elements.append(property) }

    /// All user properties, in order.
    public var userProperties: [(name: String, value: String)] {
        elements.compactMap { if case .userProperty(let n, let v) = $0 { (n, v) } else { nil } }
    }

    /// The response topic, if present.
    public var responseTopic: String? {
        for case .responseTopic(let v) in elements { return v }
        return nil
    }

    /// The correlation data, if present.
    public var correlationData: [UInt8]? {
        for case .correlationData(let v) in elements { return v }
        return nil
    }

    /// The reason string, if present.
    public var reasonString: String? {
        for case .reasonString(let v) in elements { return v }
        return nil
    }

    var receiveMaximum: UInt16? {
        for case .receiveMaximum(let v) in elements { return v }
        return nil
    }

    var maximumPacketSize: UInt32? {
        for case .maximumPacketSize(let v) in elements { return v }
        return nil
    }

    var topicAlias: UInt16? {
        for case .topicAlias(let v) in elements { return v }
        return nil
    }

    var topicAliasMaximum: UInt16? {
        for case .topicAliasMaximum(let v) in elements { return v }
        return nil
    }

    var serverKeepAlive: UInt16? {
        for case .serverKeepAlive(let v) in elements { return v }
        return nil
    }

    var assignedClientIdentifier: String? {
        for case .assignedClientIdentifier(let v) in elements { return v }
        return nil
    }

    var maximumQoS: UInt8? {
        for case .maximumQoS(let v) in elements { return v }
        return nil
    }

    var sessionExpiryInterval: UInt32? {
        for case .sessionExpiryInterval(let v) in elements { return v }
        return nil
    }

    var authenticationMethod: String? {
        for case .authenticationMethod(let v) in elements { return v }
        return nil
    }

    var authenticationData: [UInt8]? {
        for case .authenticationData(let v) in elements { return v }
        return nil
    }
}
