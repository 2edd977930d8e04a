/// An error from the MQTT client.
///
/// A struct with an opaque ``Code`` so that adding a kind of failure breaks no caller. The
/// description never contains payloads, passwords or user names.
public struct MQTTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }

        /// The peer sent bytes that break the MQTT protocol (malformed, wrong state, unknown id).
        public static let protocolViolation = Code("protocolViolation")
        /// A packet exceeded the maximum packet size.
        public static let packetTooLarge = Code("packetTooLarge")
        /// A topic name or filter is not valid.
        public static let invalidTopic = Code("invalidTopic")
        /// A property you passed is not allowed in that packet, or appears more than once.
        public static let invalidProperty = Code("invalidProperty")
        /// The broker refused the connection (see ``MQTTError/reasonCode``).
        public static let connectionRefused = Code("connectionRefused")
        /// The connection could not be established or was lost.
        public static let connectionFailed = Code("connectionFailed")
        /// The broker did not answer within the keep-alive timeout.
        public static let keepAliveTimeout = Code("keepAliveTimeout")
        /// The broker sent DISCONNECT (see ``MQTTError/reasonCode``).
        public static let disconnectedByServer = Code("disconnectedByServer")
        /// The session, and with it the message's in-flight state, was lost.
        public static let sessionLost = Code("sessionLost")
        /// A queue was full and its policy dropped this message.
        public static let droppedByPolicy = Code("droppedByPolicy")
        /// A queue was full and its policy rejected the message at once.
        public static let queueFull = Code("queueFull")
        /// A wait (queue space, response, connection) passed its deadline.
        public static let timeout = Code("timeout")
        /// The client was shut down before the operation completed.
        public static let shutdown = Code("shutdown")
        /// The broker answered with a failure reason code (see ``MQTTError/reasonCode``).
        public static let brokerRejected = Code("brokerRejected")
        /// The operation needs a feature the connection does not have (e.g. MQTT 5).
        public static let unsupported = Code("unsupported")
        /// TLS configuration or handshake failure.
        public static let tls = Code("tls")

        /// The code's name.
        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The reason code from the broker or the one the client sent, when there is one.
    public var reasonCode: MQTTReasonCode?
    /// A human-readable explanation; names the normative statement for protocol violations.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String, reasonCode: MQTTReasonCode? = nil) {
        self.code = code
        self.message = message
        self.reasonCode = reasonCode
    }

    /// `code: message (reason 0x..)`.
    public var description: String {
        if let reasonCode { return "MQTTError.\(code): \(message) (reason \(reasonCode))" }
        return "MQTTError.\(code): \(message)"
    }

    static func malformed(_ message: String) -> MQTTError {
        MQTTError(.protocolViolation, "malformed packet: \(message)", reasonCode: .malformedPacket)
    }

    static func protocolError(_ message: String) -> MQTTError {
        MQTTError(.protocolViolation, "protocol error: \(message)", reasonCode: .protocolError)
    }
}
