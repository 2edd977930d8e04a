/// An error from the bridge: a bad rule or configuration, or a failure of one side.
public struct BridgeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is (an open set: adding a case breaks no caller).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A rule is invalid (bad filter, bad prefix, bad QoS).
        public static let invalidRule = Code("invalidRule")
        /// The configuration file or options are invalid (unknown key, wrong type, missing field).
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The broker could not be reached or refused the session.
        public static let brokerUnavailable = Code("brokerUnavailable")
        /// The bridge has shut down.
        public static let shutDown = Code("shutDown")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation naming the rule, key or endpoint involved (never credentials).
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "BridgeError.\(code): \(message)" }
}
