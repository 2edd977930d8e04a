internal import NIOCore

/// Wire primitives ([MQTT-1.5]). Reads operate on a packet body that is already complete, so a
/// missing byte is a malformed packet, not incomplete input.
extension ByteBuffer {
    /// Largest value a variable byte integer can hold ([MQTT-1.5.5]).
    static let maxVariableByteInteger = 268_435_455

    /// Result of peeking a variable byte integer that may not have fully arrived.
    enum VBIPeek: Equatable {
        case incomplete
        case value(Int, length: Int)
    }

    /// Peeks a variable byte integer at `index` without moving the reader index.
    func peekVariableByteInteger(at index: Int) throws(MQTTError) -> VBIPeek {
        var value = 0
        var multiplier = 1
        for offset in 0..<4 {
            guard let byte = getInteger(at: index + offset, as: UInt8.self) else { return .incomplete }
            value += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 {
                // [MQTT-1.5.5-1]: the minimum number of bytes must be used.
                if offset > 0 && byte == 0 {
                    throw .malformed("variable byte integer not minimally encoded [MQTT-1.5.5-1]")
                }
                return .value(value, length: offset + 1)
            }
            multiplier *= 128
        }
        throw .malformed("variable byte integer longer than 4 bytes [MQTT-1.5.5]")
    }

    mutating func mqttReadVariableByteInteger() throws(MQTTError) -> Int {
        switch try peekVariableByteInteger(at: readerIndex) {
        case .incomplete: throw .malformed("truncated variable byte integer")
        case .value(let value, let length):
            moveReaderIndex(forwardBy: length)
            return value
        }
    }

    mutating func mqttReadByte() throws(MQTTError) -> UInt8 {
        guard let v = readInteger(as: UInt8.self) else { throw .malformed("packet too short") }
        return v
    }

    mutating func mqttReadUInt16() throws(MQTTError) -> UInt16 {
        guard let v = readInteger(as: UInt16.self) else { throw .malformed("packet too short") }
        return v
    }

    mutating func mqttReadUInt32() throws(MQTTError) -> UInt32 {
        guard let v = readInteger(as: UInt32.self) else { throw .malformed("packet too short") }
        return v
    }

    mutating func mqttReadBinary() throws(MQTTError) -> [UInt8] {
        let length = Int(try mqttReadUInt16())
        guard let bytes = readBytes(length: length) else { throw .malformed("binary data longer than the packet") }
        return bytes
    }

    /// Reads a UTF-8 encoded string ([MQTT-1.5.4]): valid UTF-8 ([MQTT-1.5.4-1]) without U+0000 ([MQTT-1.5.4-2]).
    mutating func mqttReadString() throws(MQTTError) -> String {
        let length = Int(try mqttReadUInt16())
        guard let view = readSlice(length: length) else { throw .malformed("string longer than the packet") }
        let string: String? = view.withUnsafeReadableBytes { raw in
            if raw.contains(0) { return nil }
            return String(validating: raw, as: UTF8.self)
        }
        guard let string else {
            throw .malformed("string is not valid UTF-8 or contains U+0000 [MQTT-1.5.4-1] [MQTT-1.5.4-2]")
        }
        return string
    }

    @discardableResult
    mutating func mqttWriteVariableByteInteger(_ value: Int) -> Int {
        precondition(value >= 0 && value <= ByteBuffer.maxVariableByteInteger)
        var value = value
        var written = 0
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value > 0 { byte |= 0x80 }
            writeInteger(byte)
            written += 1
        } while value > 0
        return written
    }

    static func variableByteIntegerLength(_ value: Int) -> Int {
        switch value {
        case ..<128: 1
        case ..<16_384: 2
        case ..<2_097_152: 3
        default: 4
        }
    }

    mutating func mqttWriteString(_ string: String) throws(MQTTError) {
        let count = string.utf8.count
        guard count <= 65_535 else { throw MQTTError(.packetTooLarge, "string longer than 65535 bytes [MQTT-1.5.4]") }
        writeInteger(UInt16(count))
        writeString(string)
    }

    mutating func mqttWriteBinary(_ bytes: [UInt8]) throws(MQTTError) {
        guard bytes.count <= 65_535 else {
            throw MQTTError(.packetTooLarge, "binary data longer than 65535 bytes [MQTT-1.5.6]")
        }
        writeInteger(UInt16(bytes.count))
        writeBytes(bytes)
    }
}
