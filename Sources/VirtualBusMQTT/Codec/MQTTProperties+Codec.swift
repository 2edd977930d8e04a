internal import NIOCore

extension MQTTProperties {
    /// Reads a property length and the properties it covers ([MQTT-2.2.2]).
    ///
    /// Unknown identifiers, and identifiers not valid for the packet (`context`), are a malformed
    /// packet ([MQTT-2.2.2.2]): the former's type, and so length, is unknown. A property that may
    /// appear only once appearing twice is a protocol error ([MQTT-2.2.2-2]).
    static func decode(from buffer: inout ByteBuffer, in context: MQTTPropertyContext) throws(MQTTError)
        -> MQTTProperties
    {
        let length = try buffer.mqttReadVariableByteInteger()
        guard var slice = buffer.readSlice(length: length) else {
            throw .malformed("property length longer than the packet")
        }
        var result: [MQTTProperty] = []
        var seen: UInt64 = 0
        while slice.readableBytes > 0 {
            let raw = try slice.mqttReadVariableByteInteger()
            guard raw < 0x80 else { throw .malformed("unknown property identifier \(raw)") }
            let id = MQTTPropertyIdentifier(rawValue: UInt8(raw))
            let property = try decodeOne(id, from: &slice)
            guard context.allows(id) else {
                throw .malformed("property \(id) is not allowed in \(context.name) [MQTT-2.2.2.2]")
            }
            if !context.allowsRepeated(id) {
                let bit: UInt64 = 1 << UInt64(raw)
                if seen & bit != 0 {
                    throw .protocolError("property \(id) included more than once in \(context.name) [MQTT-2.2.2-2]")
                }
                seen |= bit
            }
            result.append(property)
        }
        return MQTTProperties(result)
    }

    private static func decodeOne(_ id: MQTTPropertyIdentifier, from b: inout ByteBuffer) throws(MQTTError)
        -> MQTTProperty
    {
        switch id {
        case .payloadFormatIndicator: return .payloadFormatIndicator(try b.mqttReadByte())
        case .messageExpiryInterval: return .messageExpiryInterval(try b.mqttReadUInt32())
        case .contentType: return .contentType(try b.mqttReadString())
        case .responseTopic: return .responseTopic(try b.mqttReadString())
        case .correlationData: return .correlationData(try b.mqttReadBinary())
        case .subscriptionIdentifier:
            let v = try b.mqttReadVariableByteInteger()
            guard v > 0 else { throw .protocolError("subscription identifier 0 [MQTT-3.8.2.1.2]") }
            return .subscriptionIdentifier(UInt32(v))
        case .sessionExpiryInterval: return .sessionExpiryInterval(try b.mqttReadUInt32())
        case .assignedClientIdentifier: return .assignedClientIdentifier(try b.mqttReadString())
        case .serverKeepAlive: return .serverKeepAlive(try b.mqttReadUInt16())
        case .authenticationMethod: return .authenticationMethod(try b.mqttReadString())
        case .authenticationData: return .authenticationData(try b.mqttReadBinary())
        case .requestProblemInformation: return .requestProblemInformation(try b.mqttReadByte())
        case .willDelayInterval: return .willDelayInterval(try b.mqttReadUInt32())
        case .requestResponseInformation: return .requestResponseInformation(try b.mqttReadByte())
        case .responseInformation: return .responseInformation(try b.mqttReadString())
        case .serverReference: return .serverReference(try b.mqttReadString())
        case .reasonString: return .reasonString(try b.mqttReadString())
        case .receiveMaximum:
            let v = try b.mqttReadUInt16()
            guard v > 0 else { throw .protocolError("receive maximum 0 [MQTT-3.2.2.3.3]") }
            return .receiveMaximum(v)
        case .topicAliasMaximum: return .topicAliasMaximum(try b.mqttReadUInt16())
        case .topicAlias: return .topicAlias(try b.mqttReadUInt16())
        case .maximumQoS: return .maximumQoS(try b.mqttReadByte())
        case .retainAvailable: return .retainAvailable(try b.mqttReadByte())
        case .userProperty:
            let name = try b.mqttReadString()
            return .userProperty(name: name, value: try b.mqttReadString())
        case .maximumPacketSize:
            let v = try b.mqttReadUInt32()
            guard v > 0 else { throw .protocolError("maximum packet size 0 [MQTT-3.2.2.3.6]") }
            return .maximumPacketSize(v)
        case .wildcardSubscriptionAvailable: return .wildcardSubscriptionAvailable(try b.mqttReadByte())
        case .subscriptionIdentifierAvailable: return .subscriptionIdentifierAvailable(try b.mqttReadByte())
        case .sharedSubscriptionAvailable: return .sharedSubscriptionAvailable(try b.mqttReadByte())
        default: throw .malformed("unknown property identifier \(id)")
        }
    }

    /// Writes the property length followed by the properties.
    func encode(into buffer: inout ByteBuffer) throws(MQTTError) {
        if elements.isEmpty {
            buffer.writeInteger(UInt8(0))
            return
        }
        var scratch = ByteBuffer()
        for property in elements {
            scratch.mqttWriteVariableByteInteger(Int(property.identifier.rawValue))
            switch property {
            case .payloadFormatIndicator(let v), .requestProblemInformation(let v), .requestResponseInformation(let v),
                .maximumQoS(let v), .retainAvailable(let v), .wildcardSubscriptionAvailable(let v),
                .subscriptionIdentifierAvailable(let v), .sharedSubscriptionAvailable(let v):
                scratch.writeInteger(v)
            case .messageExpiryInterval(let v), .sessionExpiryInterval(let v), .willDelayInterval(let v),
                .maximumPacketSize(let v):
                scratch.writeInteger(v)
            case .serverKeepAlive(let v), .receiveMaximum(let v), .topicAliasMaximum(let v), .topicAlias(let v):
                scratch.writeInteger(v)
            case .contentType(let s), .responseTopic(let s), .assignedClientIdentifier(let s),
                .authenticationMethod(let s), .responseInformation(let s), .serverReference(let s),
                .reasonString(let s):
                try scratch.mqttWriteString(s)
            case .correlationData(let d), .authenticationData(let d):
                try scratch.mqttWriteBinary(d)
            case .subscriptionIdentifier(let v):
                guard v > 0 && v <= ByteBuffer.maxVariableByteInteger else {
                    throw MQTTError(.protocolViolation, "subscription identifier out of range [MQTT-3.8.2.1.2]")
                }
                scratch.mqttWriteVariableByteInteger(Int(v))
            case .userProperty(let name, let value):
                try scratch.mqttWriteString(name)
                try scratch.mqttWriteString(value)
            }
        }
        buffer.mqttWriteVariableByteInteger(scratch.readableBytes)
        buffer.writeBuffer(&scratch)
    }
}
