import ZeroMQ

/// The bytes of a message's payload.
///
/// A collection of `UInt8` indexed from zero. Small payloads received together share one buffer
/// (one allocation per batch instead of one per message); large ones are libzmq's own received
/// buffer, never copied on the way to the consumer. That is why this is not a plain `[UInt8]`;
/// convert with `Array(payload)` when an array is needed.
public struct BusPayload: RandomAccessCollection, Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible
{
    /// Where the bytes are.
    private enum Storage: Sendable {
        /// `count` bytes of an array (the payload's own, or a batch buffer) from `offset`.
        case array([UInt8], offset: Int)
        /// A received frame's content, owned until the last copy of this payload goes.
        case frame(ZMQFrameContent)
    }

    private let storage: Storage
    /// The number of bytes.
    public let count: Int

    /// A payload holding `bytes`.
    public init(_ bytes: [UInt8]) {
        storage = .array(bytes, offset: 0)
        count = bytes.count
    }

    /// A payload holding a string's UTF-8 bytes.
    public init(_ text: String) { self.init(Array(text.utf8)) }

    public init(arrayLiteral elements: UInt8...) { self.init(elements) }

    /// A view into a shared batch buffer (the run loop's).
    init(sharing storage: [UInt8], offset: Int, count: Int) {
        self.storage = .array(storage, offset: offset)
        self.count = count
    }

    /// A received frame's content, without a copy.
    init(frame content: ZMQFrameContent) {
        storage = .frame(content)
        count = content.bytes.count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "BusPayload index out of range")
        switch storage {
        case .array(let bytes, let offset): return bytes[offset + position]
        case .frame(let content): return content.bytes[position]
        }
    }

    /// Calls `body` with the payload's bytes, without copying.
    public func withUnsafeBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result)
        throws(Failure) -> Result
    {
        switch storage {
        case .array(let bytes, let offset):
            let outcome = bytes.withUnsafeBytes { bytes in
                Swift.Result { () throws(Failure) in
                    try body(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
                }
            }
            return try outcome.get()
        case .frame(let content):
            // The content lives as long as `storage` holds it, which outlives this call.
            return try withExtendedLifetime(content) { () throws(Failure) in try body(content.bytes) }
        }
    }

    public static func == (lhs: BusPayload, rhs: BusPayload) -> Bool {
        lhs.count == rhs.count && lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var description: String { "\(count) bytes" }
}
