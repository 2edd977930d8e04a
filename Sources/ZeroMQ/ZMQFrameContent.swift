import CZeroMQ

/// The content of one received frame, owned on the heap until its last reference goes: a payload
/// handed to consumers without copying. For libzmq's long messages the bytes are libzmq's own
/// reference-counted buffer, written once by the sender; nothing copies them on the way.
package final class ZMQFrameContent: @unchecked Sendable {
    // @unchecked: `message` is filled once in init (moved out of a received frame) and afterwards
    // only read; it is closed once, in deinit. libzmq counts references to a long message's buffer
    // atomically, so the last reference may go on any thread.
    private let message: UnsafeMutablePointer<zmq_msg_t>
    /// The frame's bytes, valid as long as this object lives.
    package let bytes: UnsafeRawBufferPointer

    fileprivate init(movingFrom frame: UnsafeMutablePointer<zmq_msg_t>) {
        message = .allocate(capacity: 1)
        LibZMQ.messageInit(message)
        LibZMQ.messageMove(message, from: frame)
        bytes = LibZMQ.messageBytes(message)
    }

    deinit {
        LibZMQ.messageClose(message)
        message.deallocate()
    }
}

extension ZMQMessage {
    /// Takes the frame's content without copying it; this message is left empty, ready for the
    /// next receive.
    package func takeContent() -> ZMQFrameContent {
        ZMQFrameContent(movingFrom: pointer)
    }
}
