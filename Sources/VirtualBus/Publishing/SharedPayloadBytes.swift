/// A published array that libzmq sends without copying: it holds the array, so the array's storage
/// stays alive and unchanged (an array shared by a second reference is copied before any change)
/// until libzmq releases this object.
final class SharedPayloadBytes: @unchecked Sendable {
    // @unchecked: both properties are immutable after init, and `bytes` points into `storage`'s
    // buffer, which no one can change while this object holds a reference to it.

    /// From this size on, not copying beats copying: below it, a copy into libzmq's own buffer
    /// costs less than this object and libzmq's release callback.
    static let threshold = 8 * 1024

    private let storage: [UInt8]
    /// The array's bytes, valid as long as this object lives.
    let bytes: UnsafeRawBufferPointer

    init(_ storage: [UInt8]) {
        self.storage = storage
        // A native array's buffer does not move while it is not mutated, and `storage` is a `let`.
        bytes = storage.withUnsafeBytes { $0 }
    }
}
