internal import NIOCore

/// Decodes MQTT packets for one connection's protocol version.
///
/// `decode` returns `nil` while a packet is incomplete and throws a protocol-violation
/// ``MQTTError`` on malformed input; it never traps on any byte sequence.
struct MQTTPacketDecoder: Sendable {
    var version: MQTTProtocolVersion
    /// Largest whole packet accepted, fixed header included ([MQTT-3.1.2-24] for the client side).
    var maximumPacketSize: Int

    init(version: MQTTProtocolVersion, maximumPacketSize: Int = ByteBuffer.maxVariableByteInteger + 5) {
        self.version = version
        self.maximumPacketSize = maximumPacketSize
    }

    /// Decodes one packet from the front of `buffer`, consuming it only when complete.
    func decode(buffer: inout ByteBuffer) throws(MQTTError) -> MQTTPacket? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        let remaining: Int
        let lengthBytes: Int
        switch try buffer.peekVariableByteInteger(at: buffer.readerIndex + 1) {
        case .incomplete: return nil
        case .value(let value, let length):
            remaining = value
            lengthBytes = length
        }
        let total = 1 + lengthBytes + remaining
        if total > maximumPacketSize {
            throw MQTTError(
                .packetTooLarge, "packet of \(total) bytes exceeds the maximum packet size \(maximumPacketSize)",
                reasonCode: .packetTooLarge)
        }
        guard buffer.readableBytes >= total else { return nil }
        buffer.moveReaderIndex(forwardBy: 1 + lengthBytes)
        var body = buffer.readSlice(length: remaining)!
        let packet = try decodeBody(type: first >> 4, flags: first & 0x0F, body: &body)
        if body.readableBytes != 0 { throw .malformed("\(packet.name) has \(body.readableBytes) trailing bytes") }
        return packet
    }

    private var isV5: Bool { version == .v5 }

    private func requireFlags(_ flags: UInt8, _ expected: UInt8, _ name: String) throws(MQTTError) {
        if flags != expected {
            throw .malformed("\(name) fixed header flags \(flags) must be \(expected) [MQTT-2.2.2-1] [MQTT-2.2.2-2]")
        }
    }

    private func properties(_ body: inout ByteBuffer, _ context: MQTTPropertyContext) throws(MQTTError)
        -> MQTTProperties
    {
        isV5 ? try MQTTProperties.decode(from: &body, in: context) : []
    }

    private func decodeBody(type: UInt8, flags: UInt8, body: inout ByteBuffer) throws(MQTTError) -> MQTTPacket {
        switch type {
        case 1:
            try requireFlags(flags, 0, "CONNECT")
            return .connect(try decodeConnect(&body))
        case 2:
            try requireFlags(flags, 0, "CONNACK")
            return .connack(try decodeConnAck(&body))
        case 3: return .publish(try decodePublish(flags: flags, &body))
        case 4:
            try requireFlags(flags, 0, "PUBACK")
            return .puback(try decodeAck(&body))
        case 5:
            try requireFlags(flags, 0, "PUBREC")
            return .pubrec(try decodeAck(&body))
        case 6:
            try requireFlags(flags, 2, "PUBREL")
            return .pubrel(try decodeAck(&body))
        case 7:
            try requireFlags(flags, 0, "PUBCOMP")
            return .pubcomp(try decodeAck(&body))
        case 8:
            try requireFlags(flags, 2, "SUBSCRIBE")
            return .subscribe(try decodeSubscribe(&body))
        case 9:
            try requireFlags(flags, 0, "SUBACK")
            return .suback(try decodeSubAck(&body, unsubscribe: false))
        case 10:
            try requireFlags(flags, 2, "UNSUBSCRIBE")
            return .unsubscribe(try decodeUnsubscribe(&body))
        case 11:
            try requireFlags(flags, 0, "UNSUBACK")
            return .unsuback(try decodeSubAck(&body, unsubscribe: true))
        case 12:
            try requireFlags(flags, 0, "PINGREQ")
            return .pingreq
        case 13:
            try requireFlags(flags, 0, "PINGRESP")
            return .pingresp
        case 14:
            try requireFlags(flags, 0, "DISCONNECT")
            return .disconnect(try decodeReason(&body, .disconnect))
        case 15 where isV5:
            try requireFlags(flags, 0, "AUTH")
            return .auth(try decodeReason(&body, .auth))
        default:
            throw .malformed("reserved packet type \(type) [MQTT-2.1.2]")
        }
    }

    private func decodeConnect(_ body: inout ByteBuffer) throws(MQTTError) -> ConnectPacket {
        let name = try body.mqttReadString()
        guard name == "MQTT" else { throw .protocolError("protocol name '\(name)' is not MQTT [MQTT-3.1.2-1]") }
        let level = MQTTProtocolVersion(rawValue: try body.mqttReadByte())
        guard level == version else {
            throw MQTTError(
                .protocolViolation, "unsupported protocol level \(level.rawValue) [MQTT-3.1.2-2]",
                reasonCode: .unsupportedProtocolVersion)
        }
        let flags = try body.mqttReadByte()
        if flags & 0x01 != 0 { throw .malformed("CONNECT reserved flag set [MQTT-3.1.2-3]") }
        let willFlag = flags & 0x04 != 0
        let willQoSBits = (flags >> 3) & 0x03
        let willRetain = flags & 0x20 != 0
        if !willFlag && (willQoSBits != 0 || willRetain) {
            throw .malformed("will QoS/retain without will flag [MQTT-3.1.2-11] [MQTT-3.1.2-13]")
        }
        guard let willQoS = MQTTQoS(rawValue: willQoSBits) else { throw .malformed("will QoS 3 [MQTT-3.1.2-12]") }
        let hasPassword = flags & 0x40 != 0
        let hasUsername = flags & 0x80 != 0
        if !isV5 && hasPassword && !hasUsername { throw .malformed("password without user name [MQTT-3.1.2-22]") }
        let keepAlive = try body.mqttReadUInt16()
        let props = try properties(&body, .connect)
        let clientID = try body.mqttReadString()
        var will: MQTTWill?
        if willFlag {
            let willProps = try properties(&body, .will)
            let topic: MQTTTopic
            do { topic = try MQTTTopic(try body.mqttReadString()) } catch { throw .malformed(error.message) }
            will = MQTTWill(
                topic: topic, payload: try body.mqttReadBinary(), qos: willQoS, retain: willRetain,
                properties: willProps)
        }
        let username = hasUsername ? try body.mqttReadString() : nil
        let password = hasPassword ? try body.mqttReadBinary() : nil
        return ConnectPacket(
            version: level, clientID: clientID, cleanStart: flags & 0x02 != 0, keepAliveSeconds: keepAlive,
            username: username, password: password, will: will, properties: props)
    }

    private func decodeConnAck(_ body: inout ByteBuffer) throws(MQTTError) -> ConnAckPacket {
        let ackFlags = try body.mqttReadByte()
        if ackFlags & 0xFE != 0 { throw .malformed("CONNACK reserved flags set [MQTT-3.2.2-1]") }
        var code = MQTTReasonCode(rawValue: try body.mqttReadByte())
        if !isV5 {
            let mapped: [UInt8: MQTTReasonCode] = [
                0: .success, 1: .unsupportedProtocolVersion, 2: .clientIdentifierNotValid,
                3: .serverUnavailable, 4: .badUserNameOrPassword, 5: .notAuthorized,
            ]
            guard let m = mapped[code.rawValue] else {
                throw .malformed("CONNACK return code \(code.rawValue) reserved [MQTT-3.2.2.3]")
            }
            code = m
        }
        if isV5 && code.rawValue == 1 && body.readableBytes == 0 {
            // A 3.1.1 broker answers a level-5 CONNECT with its own two-byte CONNACK, return
            // code 1 "unacceptable protocol version" (3.1.1 [MQTT-3.1.2-2]), no properties.
            return ConnAckPacket(sessionPresent: false, reasonCode: .unsupportedProtocolVersion, properties: [])
        }
        let sessionPresent = ackFlags & 1 != 0
        if sessionPresent && code.isFailure { throw .malformed("session present with a failure code [MQTT-3.2.2-6]") }
        return ConnAckPacket(
            sessionPresent: sessionPresent, reasonCode: code, properties: try properties(&body, .connack))
    }

    private func decodePublish(flags: UInt8, _ body: inout ByteBuffer) throws(MQTTError) -> PublishPacket {
        guard let qos = MQTTQoS(rawValue: (flags >> 1) & 0x03) else {
            throw .malformed("PUBLISH with QoS 3 [MQTT-3.3.1-4]")
        }
        let dup = flags & 0x08 != 0
        if dup && qos == .atMostOnce { throw .malformed("DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]") }
        let topic = try body.mqttReadString()
        if topic.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }) {
            throw .malformed("wildcard in a PUBLISH topic name [MQTT-3.3.2-2]")
        }
        var packetID: UInt16?
        if qos != .atMostOnce {
            let id = try body.mqttReadUInt16()
            if id == 0 { throw .malformed("packet identifier 0 [MQTT-2.2.1-3]") }
            packetID = id
        }
        let props = try properties(&body, .publish)
        if topic.isEmpty && props.topicAlias == nil {
            throw .malformed("empty topic name without a topic alias [MQTT-4.7.3-1]")
        }
        let payload = body.readSlice(length: body.readableBytes)!
        return PublishPacket(
            topic: topic, payload: payload, qos: qos, retain: flags & 0x01 != 0, dup: dup,
            packetID: packetID, properties: props)
    }

    private func packetID(_ body: inout ByteBuffer) throws(MQTTError) -> UInt16 {
        let id = try body.mqttReadUInt16()
        if id == 0 { throw .malformed("packet identifier 0 [MQTT-2.2.1-3]") }
        return id
    }

    private func decodeAck(_ body: inout ByteBuffer) throws(MQTTError) -> AckPacket {
        let id = try packetID(&body)
        // [MQTT-3.4.2.1]: reason code and properties may be omitted when the remaining length is 2 or 3.
        guard isV5, body.readableBytes > 0 else { return AckPacket(packetID: id) }
        let code = MQTTReasonCode(rawValue: try body.mqttReadByte())
        guard body.readableBytes > 0 else { return AckPacket(packetID: id, reasonCode: code) }
        return AckPacket(
            packetID: id, reasonCode: code, properties: try MQTTProperties.decode(from: &body, in: .acknowledgement))
    }

    private func decodeSubscribe(_ body: inout ByteBuffer) throws(MQTTError) -> SubscribePacket {
        let id = try packetID(&body)
        let props = try properties(&body, .subscribe)
        var subs: [(filter: MQTTTopicFilter, options: MQTTSubscriptionOptions)] = []
        while body.readableBytes > 0 {
            let raw = try body.mqttReadString()
            let filter: MQTTTopicFilter
            do { filter = try MQTTTopicFilter(raw) } catch { throw .malformed(error.message) }
            let o = try body.mqttReadByte()
            if o & (isV5 ? 0xC0 : 0xFC) != 0 { throw .malformed("SUBSCRIBE reserved option bits set [MQTT-3.8.3-5]") }
            guard let qos = MQTTQoS(rawValue: o & 0x03) else { throw .malformed("SUBSCRIBE with QoS 3 [MQTT-3-8.3-4]") }
            let handling = (o >> 4) & 0x03
            if handling == 3 { throw .protocolError("retain handling 3 [MQTT-3.8.3.1]") }
            subs.append(
                (
                    filter,
                    MQTTSubscriptionOptions(
                        qos: qos, noLocal: o & 0x04 != 0, retainAsPublished: o & 0x08 != 0,
                        retainHandling: .init(rawValue: handling))
                ))
        }
        if subs.isEmpty { throw .protocolError("SUBSCRIBE without a topic filter [MQTT-3.8.3-3]") }
        return SubscribePacket(packetID: id, subscriptions: subs, properties: props)
    }

    private func decodeSubAck(_ body: inout ByteBuffer, unsubscribe: Bool) throws(MQTTError) -> SubAckPacket {
        let id = try packetID(&body)
        let props = try properties(&body, unsubscribe ? .unsuback : .suback)
        var codes: [MQTTReasonCode] = []
        codes.reserveCapacity(body.readableBytes)
        while body.readableBytes > 0 { codes.append(MQTTReasonCode(rawValue: try body.mqttReadByte())) }
        if !unsubscribe && codes.isEmpty { throw .malformed("SUBACK without reason codes [MQTT-3.9.3]") }
        if unsubscribe && !isV5 && !codes.isEmpty { throw .malformed("3.1.1 UNSUBACK with a payload [MQTT-3.11.3]") }
        return SubAckPacket(packetID: id, reasonCodes: codes, properties: props)
    }

    private func decodeUnsubscribe(_ body: inout ByteBuffer) throws(MQTTError) -> UnsubscribePacket {
        let id = try packetID(&body)
        let props = try properties(&body, .unsubscribe)
        var filters: [MQTTTopicFilter] = []
        while body.readableBytes > 0 {
            do { filters.append(try MQTTTopicFilter(try body.mqttReadString())) } catch {
                throw .malformed(error.message)
            }
        }
        if filters.isEmpty { throw .protocolError("UNSUBSCRIBE without a topic filter [MQTT-3.10.3-2]") }
        return UnsubscribePacket(packetID: id, filters: filters, properties: props)
    }

    private func decodeReason(_ body: inout ByteBuffer, _ context: MQTTPropertyContext) throws(MQTTError)
        -> ReasonPacket
    {
        // [MQTT-3.14.2.1]: a remaining length of 0 means reason 0x00 and no properties.
        guard isV5, body.readableBytes > 0 else { return ReasonPacket() }
        let code = MQTTReasonCode(rawValue: try body.mqttReadByte())
        guard body.readableBytes > 0 else { return ReasonPacket(reasonCode: code) }
        return ReasonPacket(reasonCode: code, properties: try MQTTProperties.decode(from: &body, in: context))
    }
}
