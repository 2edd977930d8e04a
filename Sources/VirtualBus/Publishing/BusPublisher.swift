#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Publishes messages onto a ``VirtualBus``.
///
/// `publish` is synchronous: it returns once libzmq holds the message (or throws), so it can be
/// called from any thread, task or actor without an event loop to drive it. One publisher may be
/// shared by many threads: calls are serialised inside. For the highest throughput give each hot
/// thread its own publisher.
///
/// When the queue towards the proxy is at its high-water mark, the publisher's ``PublishPolicy``
/// decides: wait up to a timeout, fail fast, or drop and count. Nothing is dropped silently.
public final class BusPublisher: Sendable {
    /// Counters of one publisher.
    public struct Statistics: Sendable, Hashable {
        /// Messages libzmq accepted.
        public var published = 0
        /// Messages dropped by the ``PublishPolicy/drop`` policy.
        public var dropped = 0
        /// Messages refused at the high-water mark (thrown to the caller, or `false` from `tryPublish`).
        public var refused = 0
    }

    /// What this publisher does at the high-water mark.
    public let policy: PublishPolicy
    let socket: PublisherSocket
    let registration: BusRegistration
    private let maximumMessageSize: Int
    private let lingerMilliseconds: Int32

    init(socket: PublisherSocket, policy: PublishPolicy, configuration: BusConfiguration, registration: BusRegistration)
    {
        self.socket = socket
        self.policy = policy
        maximumMessageSize = configuration.maximumMessageSize
        lingerMilliseconds = configuration.lingerMilliseconds
        self.registration = registration
    }

    deinit {
        close()
    }

    /// This publisher's counters.
    public var statistics: Statistics { socket.statistics }

    /// Publishes `payload` on `topic`, applying the publisher's ``policy`` at the high-water mark.
    public func publish(topic: String, payload: UnsafeRawBufferPointer) throws(BusError) {
        try publish(topic: topic, payload: payload, owner: nil)
    }

    /// With an `owner`, libzmq sends the bytes where they are (no copy) and keeps the owner.
    private func publish(topic: String, payload: UnsafeRawBufferPointer, owner: SharedPayloadBytes?) throws(BusError) {
        try countingFailure { () throws(BusError) in
            try checkSize(payload)
            try applyPolicy(topic: topic, payload: payload, owner: owner)
        }
    }

    /// Publishes without ever waiting: returns `false` (and counts it as refused) when the queue is
    /// at its high-water mark, whatever the publisher's policy.
    @discardableResult
    public func tryPublish(topic: String, payload: UnsafeRawBufferPointer) throws(BusError) -> Bool {
        try countingFailure { () throws(BusError) -> Bool in
            try checkSize(payload)
            return try socket.send(topic: topic, payload: payload, dontWait: true)
        }
    }

    /// Closes the publisher; later calls throw ``BusError/Code/shutDown``. Releasing it does the same.
    /// Messages still queued keep going for ``BusConfiguration/linger``.
    public func close() {
        socket.close(lingerMilliseconds: lingerMilliseconds)
        registration.unregister()
    }

    private func applyPolicy(topic: String, payload: UnsafeRawBufferPointer, owner: SharedPayloadBytes?)
        throws(BusError)
    {
        switch policy {
        case .block:
            guard try socket.send(topic: topic, payload: payload, payloadOwner: owner, dontWait: false) else {
                throw BusError(.highWaterMark, "the bus queue stayed full for the whole send timeout")
            }
        case .failFast:
            guard try socket.send(topic: topic, payload: payload, payloadOwner: owner, dontWait: true) else {
                throw BusError(.highWaterMark, "the bus queue is full")
            }
        case .drop:
            if try !socket.send(topic: topic, payload: payload, payloadOwner: owner, dontWait: true) {
                socket.recordDrop()
            }
        }
    }

    /// Runs one publish, counting what it throws in the publisher's metrics. Free when nothing is
    /// thrown: typed throws return the error like a value, no unwinding.
    private func countingFailure<Result>(_ body: () throws(BusError) -> Result) throws(BusError) -> Result {
        do throws(BusError) {
            return try body()
        } catch {
            socket.metrics?.recordFailure(error.code)
            throw error
        }
    }

    private func checkSize(_ payload: UnsafeRawBufferPointer) throws(BusError) {
        guard payload.count <= maximumMessageSize else {
            throw BusError(
                .messageTooLarge, "payload of \(payload.count) bytes exceeds the bus maximum of \(maximumMessageSize)")
        }
    }
}

// MARK: - Convenience payloads

extension BusPublisher {
    /// Publishes a byte array. From ``SharedPayloadBytes/threshold`` bytes on the array is not
    /// copied: libzmq sends it where it is and holds a reference to it until every subscriber in
    /// this process has let the message go (an array is never changed in place while shared).
    public func publish(topic: String, payload: [UInt8]) throws(BusError) {
        guard payload.count >= SharedPayloadBytes.threshold else {
            return try payload.withBytes { bytes throws(BusError) in try publish(topic: topic, payload: bytes) }
        }
        let shared = SharedPayloadBytes(payload)
        try publish(topic: topic, payload: shared.bytes, owner: shared)
    }

    /// Publishes a string as UTF-8.
    public func publish(topic: String, payload: String) throws(BusError) {
        try payload.withUTF8Bytes { bytes throws(BusError) in try publish(topic: topic, payload: bytes) }
    }

    /// Publishes Foundation `Data`.
    public func publish(topic: String, payload: Data) throws(BusError) {
        try payload.withBytes { bytes throws(BusError) in try publish(topic: topic, payload: bytes) }
    }

    /// Publishes a message.
    public func publish(_ message: BusMessage) throws(BusError) {
        try message.payload.withUnsafeBytes { bytes throws(BusError) in
            try publish(topic: message.topic, payload: bytes)
        }
    }

    /// Non-waiting publish of a byte array; see ``tryPublish(topic:payload:)-(_,UnsafeRawBufferPointer)``.
    @discardableResult
    public func tryPublish(topic: String, payload: [UInt8]) throws(BusError) -> Bool {
        try payload.withBytes { bytes throws(BusError) in try tryPublish(topic: topic, payload: bytes) }
    }

    /// Non-waiting publish of a string as UTF-8.
    @discardableResult
    public func tryPublish(topic: String, payload: String) throws(BusError) -> Bool {
        try payload.withUTF8Bytes { bytes throws(BusError) in try tryPublish(topic: topic, payload: bytes) }
    }
}
