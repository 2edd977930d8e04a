import ZeroMQ

/// A CURVE key pair in Z85 text form (40 characters per key).
///
/// The secret key never appears in descriptions or logs.
public struct CurveKeyPair: Sendable, Hashable, CustomStringConvertible {
    /// The public key, safe to share.
    public let publicKey: String
    /// The secret key: keep it in a file only its owner can read.
    public let secretKey: String

    /// Generates a fresh key pair (requires libzmq built with CURVE; see ``isCurveAvailable``).
    public static func generate() throws(BusError) -> CurveKeyPair {
        try CurveKeyPair.requireCurve()
        let keys = try mappingZMQErrors { () throws(ZMQError) in try LibZMQ.curveKeyPair() }
        return CurveKeyPair(checkedPublicKey: keys.publicKey, secretKey: keys.secretKey)
    }

    /// A key pair from its secret key (the public key is derived).
    public init(secretKey: String) throws(BusError) {
        try CurveKeyPair.requireCurve()
        let secretKey = secretKey.trimmingWhitespace
        guard secretKey.utf8.count == 40 else {
            throw BusError(
                .invalidConfiguration, "a CURVE secret key is 40 Z85 characters, got \(secretKey.utf8.count)")
        }
        let publicKey = try mappingZMQErrors { () throws(ZMQError) in try LibZMQ.curvePublicKey(forSecretKey: secretKey)
        }
        self.init(checkedPublicKey: publicKey, secretKey: secretKey)
    }

    private init(checkedPublicKey publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    public var description: String { "CurveKeyPair(public: \(publicKey), secret: <redacted>)" }

    /// Whether the linked libzmq supports CURVE.
    public static var isCurveAvailable: Bool { LibZMQ.has("curve") }

    static func requireCurve() throws(BusError) {
        guard isCurveAvailable else {
            throw BusError(.invalidConfiguration, "this libzmq (\(LibZMQ.version)) was built without CURVE support")
        }
    }

    /// Checks the shape of a Z85 public key.
    static func validatePublicKey(_ key: String) throws(BusError) {
        guard key.utf8.count == 40 else {
            throw BusError(.invalidConfiguration, "a CURVE public key is 40 Z85 characters, got \(key.utf8.count)")
        }
    }
}

/// CURVE on the bus's own tcp/ipc endpoints: the server keys and the clients allowed in.
///
/// The allow-list is enforced by a ZAP handler the bus runs; a refused peer gets nothing through
/// and is counted in ``VirtualBus/securityStatistics``.
public struct CurveServerSecurity: Sendable {
    /// The server's key pair (clients need its public key).
    public var keys: CurveKeyPair
    /// Public keys (Z85) of the clients allowed to connect.
    public var allowedClientKeys: Set<String>

    /// Creates a server configuration.
    public init(keys: CurveKeyPair, allowedClientKeys: Set<String>) {
        self.keys = keys
        self.allowedClientKeys = allowedClientKeys
    }
}

/// CURVE for a bus connected to a remote one (``VirtualBus/connect(frontend:backend:configuration:)``).
public struct CurveClientSecurity: Sendable {
    /// The remote bus's public key.
    public var serverPublicKey: String
    /// This client's key pair (its public key must be on the server's allow-list).
    public var keys: CurveKeyPair

    /// Creates a client configuration.
    public init(serverPublicKey: String, keys: CurveKeyPair) {
        self.serverPublicKey = serverPublicKey.trimmingWhitespace
        self.keys = keys
    }
}

/// Counters of the bus's ZAP handler.
public struct BusSecurityStatistics: Sendable, Hashable {
    /// Connections whose key was on the allow-list.
    public var accepted = 0
    /// Connections refused (unknown key or wrong mechanism).
    public var refused = 0
}

extension ZMQSocket {
    /// Applies the configuration's CURVE client keys before connecting to a tcp/ipc endpoint.
    func applyClientSecurity(_ configuration: BusConfiguration, endpoint: String) throws(ZMQError) {
        guard let curve = configuration.curveClient, !endpoint.hasPrefix("inproc://") else { return }
        try setCurveClient(
            serverKey: curve.serverPublicKey, publicKey: curve.keys.publicKey, secretKey: curve.keys.secretKey)
    }
}

extension String {
    var trimmingWhitespace: String {
        let characters = Array(self)
        guard let first = characters.firstIndex(where: { !$0.isWhitespace }),
            let last = characters.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(characters[first...last])
    }
}
