/// MQTT 5 enhanced authentication (MQTT 5.0 section 4.12): a challenge/response exchange of AUTH
/// packets between CONNECT and CONNACK, and again on ``MQTTClient/reauthenticate()``.
///
/// The client sends ``method`` and ``initialData`` in CONNECT (or in the AUTH that starts a
/// re-authentication). Each AUTH the broker answers with "continue authentication" is handed to
/// ``respond``, which runs in a task of its own — never on the event loop, so it may await
/// anything — and returns the data for the client's next AUTH. Throwing from it ends the attempt:
/// the connection is closed with ``MQTTError/Code/connectionRefused``.
public struct MQTTAuthentication: Sendable {
    /// The authentication method, e.g. `SCRAM-SHA-256`; the broker must support it.
    public var method: String
    /// Data for the first step (sent in CONNECT and in a re-authentication's first AUTH).
    public var initialData: [UInt8]?
    /// Answers one challenge from the broker with the data for the next AUTH (`nil` sends none).
    public var respond: @Sendable (MQTTAuthenticationChallenge) async throws -> [UInt8]?

    /// Creates an authentication exchange.
    public init(
        method: String, initialData: [UInt8]? = nil,
        respond: @escaping @Sendable (MQTTAuthenticationChallenge) async throws -> [UInt8]?
    ) {
        self.method = method
        self.initialData = initialData
        self.respond = respond
    }
}

/// One AUTH from the broker with reason "continue authentication".
public struct MQTTAuthenticationChallenge: Sendable, Hashable {
    /// The authentication method (always the one the client asked for [MQTT-4.12.0-5]).
    public var method: String
    /// The broker's authentication data, if any.
    public var data: [UInt8]?
    /// True during ``MQTTClient/reauthenticate()``, false while connecting.
    public var isReauthentication: Bool
    /// All properties of the AUTH packet (reason string, user properties).
    public var properties: MQTTProperties
}
