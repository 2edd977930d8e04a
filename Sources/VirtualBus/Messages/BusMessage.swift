#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One message on the bus: a topic and an opaque payload.
///
/// On the wire it is two ZeroMQ frames, `[topic, payload]`, so any ZeroMQ peer can publish or
/// subscribe through the bus: nothing else travels with a message, so every subscriber, ours or
/// foreign, sees exactly the topic and payload that were published.
public struct BusMessage: Sendable, Hashable {
    /// The topic the message was published on.
    public var topic: String
    /// The payload bytes.
    public var payload: BusPayload
    /// Creates a message.
    public init(topic: String, payload: BusPayload) {
        self.topic = topic
        self.payload = payload
    }

    /// Creates a message from a byte array.
    public init(topic: String, payload: [UInt8]) {
        self.init(topic: topic, payload: BusPayload(payload))
    }

    /// The payload decoded as UTF-8 (invalid sequences replaced), for text protocols.
    public var payloadString: String { String(decoding: payload, as: UTF8.self) }

    /// The payload as Foundation `Data`.
    public var payloadData: Data { payload.withUnsafeBytes { Data($0) } }
}
