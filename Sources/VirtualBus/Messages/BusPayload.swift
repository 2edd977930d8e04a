import ZeroMQ

/// The bytes of a message's payload.
///
/// A collection of `UInt8` indexed from zero. Small payloads received together share one buffer
/// (one allocation per batch instead of one per message); large ones are libzmq's own received
/// buffer, never copied on the way to the consumer. That is why this is not a plain `[UInt8]`;
/// convert with `Array(payload)` when an array is needed.
public struct BusPayload: RandomAccessCollection, Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible
{
    /// What keeps the bytes alive. Never read for the bytes themselves: ``bytes`` points at them.
    private enum Owner: Sendable {
        /// The payload's own array (a native array's buffer does not move while it is not mutated,
        /// and this one never is: it is a `let` inside an immutable value).
        case array([UInt8])
        /// A received batch's shared buffer of small payloads.
        case arena(PayloadArena)
        /// A received frame's content, owned until the last copy of this payload goes.
        case frame(ZMQFrameContent)
    }

    private let owner: Owner
    // nonisolated(unsafe): a raw pointer is not Sendable, but what this one points at never changes
    // for as long as `owner` lives (see each case), so any thread holding the payload may read it.
    // Reading through it, instead of switching on `owner`, keeps a byte access one load.
    private nonisolated(unsafe) let bytes: UnsafeRawBufferPointer

    /// The number of bytes.
    public var count: Int { bytes.count }

    /// A payload holding `bytes`.
    public init(_ bytes: [UInt8]) {
        owner = .array(bytes)
        self.bytes = bytes.withUnsafeBytes { $0 }
    }

    /// A payload holding a string's UTF-8 bytes.
    public init(_ text: String) { self.init(Array(text.utf8)) }

    public init(arrayLiteral elements: UInt8...) { self.init(elements) }

    /// Bytes in a received batch's arena.
    init(arena: PayloadArena, bytes: UnsafeRawBufferPointer) {
        owner = .arena(arena)
        self.bytes = bytes
    }

    /// A received frame's content, without a copy.
    init(frame content: ZMQFrameContent) {
        owner = .frame(content)
        bytes = content.bytes
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { bytes.count }
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < bytes.count, "BusPayload index out of range")
        return bytes[position]
    }

    /// Calls `body` with the payload's bytes, without copying.
    public func withUnsafeBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result)
        throws(Failure) -> Result
    {
        // The bytes live as long as `owner` holds them, which outlives this call.
        try withExtendedLifetime(owner) { () throws(Failure) in try body(bytes) }
    }

    public func withContiguousStorageIfAvailable<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result)
        rethrows -> Result?
    {
        try withExtendedLifetime(owner) { try body(bytes.assumingMemoryBound(to: UInt8.self)) }
    }

    public static func == (lhs: BusPayload, rhs: BusPayload) -> Bool {
        lhs.count == rhs.count && lhs.bytes.elementsEqual(rhs.bytes)
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var description: String { "\(count) bytes" }
}
