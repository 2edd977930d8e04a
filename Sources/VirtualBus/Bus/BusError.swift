/// An error from the bus: what went wrong, in a form callers can match on and people can read.
///
/// `Code` is an open set of static values rather than an enum, so adding a case is not a breaking
/// change. Descriptions never include message payloads.
public struct BusError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The bus has shut down (or is shutting down): nothing more can be published or subscribed.
        public static let shutDown = Code("shutDown")
        /// A topic or prefix is not valid (empty topic, NUL character, reserved prefix, too long).
        public static let invalidTopic = Code("invalidTopic")
        /// An endpoint string is malformed or uses an unsupported transport.
        public static let invalidEndpoint = Code("invalidEndpoint")
        /// An endpoint could not be bound because its address is already in use.
        public static let addressInUse = Code("addressInUse")
        /// A configuration value is out of range.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The publisher's queue stayed at its high-water mark for the whole send timeout.
        public static let highWaterMark = Code("highWaterMark")
        /// The message is larger than the bus's maximum message size.
        public static let messageTooLarge = Code("messageTooLarge")
        /// A subscription did not reach the proxy before its deadline (the proxy may be paused).
        public static let subscribeTimedOut = Code("subscribeTimedOut")
        /// The proxy did not answer a control request in time.
        public static let controlTimedOut = Code("controlTimedOut")
        /// libzmq reported an unexpected failure.
        public static let transport = Code("transport")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation, naming the endpoint or topic involved where there is one.
    public var message: String
    /// The endpoint involved, when the failure concerns one.
    public var endpoint: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, endpoint: String? = nil) {
        self.code = code
        self.message = message
        self.endpoint = endpoint
    }

    public var description: String { "BusError.\(code): \(message)" }

    static let shutDown = BusError(.shutDown, "the bus has been shut down")
}
