/// The bytes of a message's payload.
///
/// A collection of `UInt8` indexed from zero. Payloads received together share one buffer (one
/// allocation per batch instead of one per message), which is why this is not a plain `[UInt8]`;
/// convert with `Array(payload)` when an array is needed.
public struct BusPayload: RandomAccessCollection, Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible {
    private let storage: [UInt8]
    private let offset: Int
    /// The number of bytes.
    public let count: Int

    /// A payload holding `bytes`.
    public init(_ bytes: [UInt8]) {
        storage = bytes
        offset = 0
        count = bytes.count
    }

    /// A payload holding a string's UTF-8 bytes.
    public init(_ text: String) { self.init(Array(text.utf8)) }

    public init(arrayLiteral elements: UInt8...) { self.init(elements) }

    /// A view into a shared batch buffer (the run loop's).
    init(sharing storage: [UInt8], offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "BusPayload index out of range")
        return storage[offset + position]
    }

    /// Calls `body` with the payload's bytes, without copying.
    public func withUnsafeBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        let outcome = storage.withUnsafeBytes { bytes in
            Swift.Result { () throws(Failure) in try body(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])) }
        }
        return try outcome.get()
    }

    public static func == (lhs: BusPayload, rhs: BusPayload) -> Bool {
        lhs.count == rhs.count && lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var description: String { "\(count) bytes" }
}
