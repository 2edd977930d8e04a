internal import NIOCore

/// Encodes MQTT packets for one connection's protocol version.
///
/// The variable header is built in a reusable scratch buffer so the remaining length can be
/// written in its minimal form ([MQTT-1.5.5-1]) before it; PUBLISH payloads are copied once.
struct MQTTPacketEncoder: Sendable {
    var version: MQTTProtocolVersion
    /// Largest packet the peer accepts (its Maximum Packet Size); larger packets throw.
    var maximumPacketSize: Int
    private var scratch = ByteBuffer()

    init(version: MQTTProtocolVersion, maximumPacketSize: Int = ByteBuffer.maxVariableByteInteger + 5) {
        self.version = version
        self.maximumPacketSize = maximumPacketSize
    }

    private var isV5: Bool { version == .v5 }

    /// Appends `packet` to `out`; on error `out` is unchanged.
    mutating func encode(_ packet: MQTTPacket, into out: inout ByteBuffer) throws(MQTTError) {
        scratch.clear()
        var flags: UInt8 = 0
        var payload: ByteBuffer?
        switch packet {
        case .connect(let p): try encodeConnect(p)
        case .connack(let p):
            scratch.writeInteger(UInt8(p.sessionPresent ? 1 : 0))
            scratch.writeInteger(isV5 ? p.reasonCode.rawValue : Self.v3ConnAckCode(p.reasonCode))
            if isV5 { try p.properties.encode(into: &scratch) }
        case .publish(let p):
            flags = (p.dup ? 0x08 : 0) | (p.qos.rawValue << 1) | (p.retain ? 1 : 0)
            try scratch.mqttWriteString(p.topic)
            if p.qos != .atMostOnce {
                guard let id = p.packetID, id != 0 else {
                    throw MQTTError(.protocolViolation, "QoS > 0 needs a packet identifier [MQTT-2.2.1-2]")
                }
                scratch.writeInteger(id)
            }
            if isV5 { try p.properties.encode(into: &scratch) }
            payload = p.payload
        case .puback(let p), .pubrec(let p), .pubcomp(let p): encodeAck(p)
        case .pubrel(let p):
            flags = 2
            encodeAck(p)
        case .subscribe(let p):
            flags = 2
            scratch.writeInteger(p.packetID)
            if isV5 { try p.properties.encode(into: &scratch) }
            for (filter, o) in p.subscriptions {
                try scratch.mqttWriteString(filter.filter)
                var bits = o.qos.rawValue
                if isV5 {
                    bits |=
                        (o.noLocal ? 0x04 : 0) | (o.retainAsPublished ? 0x08 : 0)
                        | ((o.retainHandling.rawValue & 3) << 4)
                }
                scratch.writeInteger(bits)
            }
        case .suback(let p), .unsuback(let p):
            scratch.writeInteger(p.packetID)
            if isV5 { try p.properties.encode(into: &scratch) }
            if case .suback = packet {
                for code in p.reasonCodes { scratch.writeInteger(code.rawValue) }
            } else if isV5 {
                for code in p.reasonCodes { scratch.writeInteger(code.rawValue) }
            }
        case .unsubscribe(let p):
            flags = 2
            scratch.writeInteger(p.packetID)
            if isV5 { try p.properties.encode(into: &scratch) }
            for filter in p.filters { try scratch.mqttWriteString(filter.filter) }
        case .pingreq, .pingresp: break
        case .disconnect(let p), .auth(let p):
            if case .auth = packet, !isV5 { throw MQTTError(.unsupported, "AUTH needs MQTT 5") }
            if isV5 && (p.reasonCode != .success || !p.properties.isEmpty) {
                scratch.writeInteger(p.reasonCode.rawValue)
                if !p.properties.isEmpty { try p.properties.encode(into: &scratch) }
            }
        }
        let remaining = scratch.readableBytes + (payload?.readableBytes ?? 0)
        guard remaining <= ByteBuffer.maxVariableByteInteger else {
            throw MQTTError(.packetTooLarge, "\(packet.name) remaining length \(remaining) over the limit [MQTT-2.2.3]")
        }
        let total = 1 + ByteBuffer.variableByteIntegerLength(remaining) + remaining
        guard total <= maximumPacketSize else {
            throw MQTTError(
                .packetTooLarge,
                "\(packet.name) of \(total) bytes exceeds the peer's maximum packet size \(maximumPacketSize)",
                reasonCode: .packetTooLarge)
        }
        out.reserveCapacity(minimumWritableBytes: total)
        out.writeInteger(packet.typeCode << 4 | flags)
        out.mqttWriteVariableByteInteger(remaining)
        out.writeBuffer(&scratch)
        if var payload { out.writeBuffer(&payload) }
    }

    private mutating func encodeAck(_ p: AckPacket) {
        scratch.writeInteger(p.packetID)
        guard isV5 else { return }
        if p.properties.isEmpty {
            if p.reasonCode != .success { scratch.writeInteger(p.reasonCode.rawValue) }
        } else {
            scratch.writeInteger(p.reasonCode.rawValue)
            try? p.properties.encode(into: &scratch)
        }
    }

    private mutating func encodeConnect(_ p: ConnectPacket) throws(MQTTError) {
        try scratch.mqttWriteString("MQTT")
        scratch.writeInteger(version.rawValue)
        var flags: UInt8 = p.cleanStart ? 0x02 : 0
        if let will = p.will { flags |= 0x04 | (will.qos.rawValue << 3) | (will.retain ? 0x20 : 0) }
        if p.password != nil { flags |= 0x40 }
        if p.username != nil { flags |= 0x80 }
        if !isV5 && p.password != nil && p.username == nil {
            throw MQTTError(.protocolViolation, "MQTT 3.1.1 needs a user name with a password [MQTT-3.1.2-22]")
        }
        scratch.writeInteger(flags)
        scratch.writeInteger(p.keepAliveSeconds)
        if isV5 { try p.properties.encode(into: &scratch) }
        try scratch.mqttWriteString(p.clientID)
        if let will = p.will {
            if isV5 { try will.properties.encode(into: &scratch) }
            try scratch.mqttWriteString(will.topic.name)
            try scratch.mqttWriteBinary(will.payload)
        }
        if let username = p.username { try scratch.mqttWriteString(username) }
        if let password = p.password { try scratch.mqttWriteBinary(password) }
    }

    private static func v3ConnAckCode(_ code: MQTTReasonCode) -> UInt8 {
        switch code {
        case .success: 0
        case .unsupportedProtocolVersion: 1
        case .clientIdentifierNotValid: 2
        case .serverUnavailable: 3
        case .badUserNameOrPassword: 4
        case .notAuthorized: 5
        default: 3
        }
    }
}
