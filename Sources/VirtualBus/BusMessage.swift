#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One message on the bus: a topic and an opaque payload.
///
/// On the wire it is two ZeroMQ frames, `[topic, payload]`, so any ZeroMQ peer can publish or
/// subscribe through the bus.
public struct BusMessage: Sendable, Hashable {
    /// The topic the message was published on.
    public var topic: String
    /// The payload bytes.
    public var payload: [UInt8]
    /// Who injected the message, when a publisher said so (bridges tag what they bring onto the bus,
    /// so they can recognise it and never send it back where it came from). `nil` for ordinary
    /// publications.
    ///
    /// On the wire the tag follows the topic in the same frame after a NUL byte
    /// (`topic\0origin`): still two frames, and still matched by every prefix of the topic, so
    /// plain ZeroMQ peers keep working.
    public var origin: String?

    /// Creates a message.
    public init(topic: String, payload: [UInt8], origin: String? = nil) {
        self.topic = topic
        self.payload = payload
        self.origin = origin
    }

    /// The payload decoded as UTF-8 (invalid sequences replaced), for text protocols.
    public var payloadString: String { String(decoding: payload, as: UTF8.self) }

    /// The payload as Foundation `Data`.
    public var payloadData: Data { Data(payload) }
}
