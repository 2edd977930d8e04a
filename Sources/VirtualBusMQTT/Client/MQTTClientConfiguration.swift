/// Everything an ``MQTTClient`` needs to connect and how it bounds its queues.
public struct MQTTClientConfiguration: Sendable {
    /// Broker host name or address.
    public var host: String
    /// Broker port (1883 plain, 8883 TLS by convention).
    public var port: Int
    /// Protocol version for this connection.
    public var version: MQTTProtocolVersion
    /// Client identifier; empty asks the broker to assign one (needs clean start on 3.1.1).
    public var clientID: String
    /// Start a new session (true) or resume the broker's stored one (false).
    public var cleanStart: Bool
    /// MQTT 5 session expiry interval in seconds (0 = ends with the connection).
    public var sessionExpiry: UInt32
    /// Keep-alive interval; `.zero` turns keep-alive off.
    public var keepAlive: Duration
    /// How long a PINGREQ may stay unanswered before the broker is declared dead (default: keepAlive).
    public var pingTimeout: Duration?
    /// How long to wait for the TCP/TLS connection and CONNACK.
    public var connectTimeout: Duration
    /// User name and password; never logged, never in error text.
    public var credentials: MQTTCredentials?
    /// Will message the broker publishes if this client disappears.
    public var will: MQTTWill?
    /// TLS settings; `nil` connects in plain TCP.
    public var tls: MQTTTLSConfiguration?
    /// Our own cap on QoS 1/2 publishes awaiting acknowledgement; the broker's Receive Maximum may lower it.
    ///
    /// Default: 65,535 with MQTT 5 (the broker states its limit in CONNACK), 20 with 3.1.1, which has
    /// no way to state one: mosquitto, for one, acknowledges QoS 2 publishes beyond its own
    /// in-flight limit (20) from a 3.1.1 client but then stops delivering them to subscribers.
    public var maxInFlight: Int
    /// Publishes held while the send window is full or the client is not connected.
    public var publishQueueCapacity: Int
    /// What happens to a publish when that queue is full.
    public var publishQueuePolicy: MQTTQueuePolicy
    /// Messages buffered per subscription before the subscription policy drops.
    public var subscriptionBufferCapacity: Int
    /// Which message a full subscription buffer drops (default: the oldest).
    public var subscriptionBufferPolicy: MQTTSubscriptionBufferPolicy
    /// Reconnect after a lost connection (`nil` = the client ends when the connection ends). A refused
    /// CONNACK (except server unavailable / busy / connection rate exceeded), and a TLS failure
    /// before the first connection, end the client all the same.
    public var reconnect: MQTTReconnectPolicy?
    /// Our Receive Maximum: inbound QoS 1/2 publishes the broker may have unacknowledged at once
    /// (QoS 2 counted until PUBREL). With manual acknowledgement it bounds what waits for
    /// ``MQTTMessage/acknowledge()`` where the broker keeps to it (mosquitto 2.0.11 does only for
    /// its first window; the client tolerates more rather than disconnect).
    public var receiveMaximum: UInt16
    /// Largest packet we accept from the broker.
    public var maximumPacketSize: UInt32
    /// After a CONNACK that resumed a session, how long QoS 1/2 messages matching no local
    /// subscription are held unacknowledged for a subscription made meanwhile (default 10 s;
    /// `.zero` acknowledges and drops them at once). The broker resends a session's messages
    /// right after CONNACK, usually before the application subscribed again.
    public var unroutedMessageGrace: Duration
    /// MQTT 5 enhanced authentication (AUTH exchange while connecting and on
    /// ``MQTTClient/reauthenticate()``); `nil` uses only ``credentials``.
    public var authentication: MQTTAuthentication?
    /// Further brokers, tried in order after ``host``:``port`` when an attempt fails or the
    /// connection is lost (the nodes of a cluster). A move to another node usually means a new
    /// session there: QoS 1/2 publishes in flight or queued are sent again on it (QoS 1 may then
    /// arrive twice, as QoS 1 allows), and the client subscribes again. See ``MQTTClient/currentEndpoint``.
    public var alternateEndpoints: [MQTTBrokerEndpoint] = []
    /// Prefix for the response topic of ``MQTTClient/request(topic:payload:qos:properties:timeout:)``.
    public var responseTopicPrefix: String

    /// Creates a configuration with conservative defaults.
    public init(
        host: String, port: Int = 1883, version: MQTTProtocolVersion = .v5, clientID: String,
        cleanStart: Bool = true, sessionExpiry: UInt32 = 0, keepAlive: Duration = .seconds(60),
        credentials: MQTTCredentials? = nil, will: MQTTWill? = nil, tls: MQTTTLSConfiguration? = nil
    ) {
        self.host = host
        self.port = port
        self.version = version
        self.clientID = clientID
        self.cleanStart = cleanStart
        self.sessionExpiry = sessionExpiry
        self.keepAlive = keepAlive
        self.pingTimeout = nil
        self.connectTimeout = .seconds(10)
        self.credentials = credentials
        self.will = will
        self.tls = tls
        self.maxInFlight = version == .v5 ? 65_535 : 20
        self.publishQueueCapacity = 10_000
        self.publishQueuePolicy = .wait(timeout: .seconds(30))
        self.subscriptionBufferCapacity = 10_000
        self.subscriptionBufferPolicy = .dropOldest
        self.reconnect = nil
        self.receiveMaximum = 65_535
        self.maximumPacketSize = 16 << 20
        self.responseTopicPrefix = "vbus/responses"
        self.authentication = nil
        self.unroutedMessageGrace = .seconds(10)
    }
}

/// What a full subscription buffer does with one more message from the broker: drop the oldest
/// buffered message or the new one, counted either way (``MQTTSubscription/droppedCount``).
///
/// There is no "wait" or "fail": the message has already arrived, and holding the connection's
/// reads for one slow consumer would stall every other subscription and the keep-alive. To make
/// the broker wait instead, subscribe with ``MQTTAcknowledgementMode/manual``: a message is
/// acknowledged only when the application says so, the broker's flow control (Receive Maximum)
/// stops the flow, and nothing awaiting acknowledgement is ever dropped.
public enum MQTTSubscriptionBufferPolicy: Sendable, Hashable {
    /// Drop the oldest buffered message: a slow consumer sees the latest ones (default).
    case dropOldest
    /// Drop the new message: a slow consumer sees the first ones.
    case dropNewest
}

/// User name and password. The description is redacted.
public struct MQTTCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The user name.
    public var username: String
    /// The password bytes.
    public var password: [UInt8]?

    /// Creates credentials from a password string.
    public init(username: String, password: String?) {
        self.username = username
        self.password = password.map { Array($0.utf8) }
    }

    /// Creates credentials from raw password bytes.
    public init(username: String, passwordBytes: [UInt8]?) {
        self.username = username
        self.password = passwordBytes
    }

    /// Always `MQTTCredentials(<redacted>)`.
    public var description: String { "MQTTCredentials(<redacted>)" }
    /// Always `MQTTCredentials(<redacted>)`.
    public var debugDescription: String { description }
}

/// TLS settings, kept free of NIO types. Server verification is on by default.
public struct MQTTTLSConfiguration: Sendable, Hashable {
    /// Where trusted CA certificates come from.
    public enum TrustRoots: Sendable, Hashable {
        /// The system trust store.
        case system
        /// A PEM file with one or more CA certificates.
        case pemFile(String)
    }

    /// CA certificates used to verify the broker.
    public var trustRoots: TrustRoots
    /// Verify the broker's certificate chain and host name (default true). Turning it off is for tests only.
    public var verifyServer: Bool
    /// Host name for SNI and verification; defaults to the configured host.
    public var serverHostname: String?
    /// Client certificate chain (PEM file) for mutual TLS.
    public var clientCertificatePath: String?
    /// Private key (PEM file) for the client certificate.
    public var clientKeyPath: String?

    /// Creates TLS settings.
    public init(
        trustRoots: TrustRoots = .system, verifyServer: Bool = true, serverHostname: String? = nil,
        clientCertificatePath: String? = nil, clientKeyPath: String? = nil
    ) {
        self.trustRoots = trustRoots
        self.verifyServer = verifyServer
        self.serverHostname = serverHostname
        self.clientCertificatePath = clientCertificatePath
        self.clientKeyPath = clientKeyPath
    }
}
