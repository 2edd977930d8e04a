import CZeroMQ

/// One reusable libzmq message frame (`zmq_msg_t`) at a stable heap address.
///
/// `~Copyable`: a copied `zmq_msg_t` closed twice frees its content twice. Receiving into the same
/// value again releases the previous content, so a run loop keeps one of these for its whole life
/// and receives without allocating.
package struct ZMQMessage: ~Copyable {
    let pointer: UnsafeMutablePointer<zmq_msg_t>

    package init() {
        pointer = .allocate(capacity: 1)
        LibZMQ.messageInit(pointer)
    }

    deinit {
        LibZMQ.messageClose(pointer)
        pointer.deallocate()
    }

    /// The frame's bytes, valid until the next receive into this message.
    package var unsafeBytes: UnsafeRawBufferPointer { LibZMQ.messageBytes(pointer) }

    /// A copy of the frame's bytes.
    package var bytes: [UInt8] { Array(unsafeBytes) }

    /// The frame's size in bytes.
    package var count: Int { zmq_msg_size(pointer) }

    /// Whether another frame of the same message follows.
    package var hasMore: Bool { LibZMQ.messageHasMore(pointer) }
}
