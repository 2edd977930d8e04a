import Synchronization
import ZeroMQ

/// The ZAP (ZeroMQ Authentication Protocol, RFC 27) decision for CURVE clients: admit the keys on
/// the allow-list, refuse and count the rest.
final class ZAPPolicy: Sendable {
    private let allowedKeys: Set<String>
    private let counters = Mutex(BusSecurityStatistics())

    init(allowedKeys: Set<String>) {
        self.allowedKeys = allowedKeys
    }

    var statistics: BusSecurityStatistics { counters.withLock { $0 } }

    /// RFC 27 request: version, request id, domain, address, identity, mechanism, credentials...
    func answer(_ request: [[UInt8]]) -> [[UInt8]] {
        let accepted =
            request.count >= 7
            && request[5] == Array("CURVE".utf8)
            && LibZMQ.z85Encode(request[6]).map(allowedKeys.contains) == true
        counters.withLock { if accepted { $0.accepted += 1 } else { $0.refused += 1 } }
        return [
            Array("1.0".utf8), request.count > 1 ? request[1] : [],
            Array((accepted ? "200" : "400").utf8), Array((accepted ? "OK" : "client key not allowed").utf8),
            [], [],
        ]
    }
}
