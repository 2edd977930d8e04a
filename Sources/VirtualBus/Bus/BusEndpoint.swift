/// Where a bus socket binds or connects: `inproc://`, `ipc://` or `tcp://`.
///
/// TCP endpoints default to the loopback address: exposing a bus on every interface is an explicit
/// choice (`host: "*"`), never an accident.
public struct BusEndpoint: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The endpoint in libzmq's URL form, e.g. `tcp://127.0.0.1:5555`.
    public let url: String

    /// An in-process endpoint (`inproc://name`).
    public static func inproc(_ name: String) -> BusEndpoint { BusEndpoint(verified: "inproc://\(name)") }

    /// A Unix-domain socket endpoint (`ipc://path`).
    public static func ipc(_ path: String) -> BusEndpoint { BusEndpoint(verified: "ipc://\(path)") }

    /// A TCP endpoint. `port: nil` binds an ephemeral port (read it back from ``VirtualBus/endpoints``).
    public static func tcp(host: String = "127.0.0.1", port: UInt16?) -> BusEndpoint {
        BusEndpoint(verified: "tcp://\(host):\(port.map(String.init) ?? "*")")
    }

    private init(verified url: String) { self.url = url }

    /// Parses an endpoint URL, checking its transport and shape.
    public init(parsing url: String) throws(BusError) {
        guard let separator = url.firstRange(of: "://") else {
            throw BusError(
                .invalidEndpoint, "endpoint '\(url)' has no transport (expected inproc://, ipc:// or tcp://)",
                endpoint: url)
        }
        let transport = url[..<separator.lowerBound]
        let address = url[separator.upperBound...]
        guard !address.isEmpty else {
            throw BusError(.invalidEndpoint, "endpoint '\(url)' has no address", endpoint: url)
        }
        switch transport {
        case "inproc", "ipc":
            break
        case "tcp":
            guard let colon = address.lastIndex(of: ":"), !address[..<colon].isEmpty else {
                throw BusError(.invalidEndpoint, "tcp endpoint '\(url)' needs host:port", endpoint: url)
            }
            let port = address[address.index(after: colon)...]
            guard port == "*" || UInt16(port) != nil else {
                throw BusError(.invalidEndpoint, "tcp endpoint '\(url)' has an invalid port '\(port)'", endpoint: url)
            }
        default:
            throw BusError(
                .invalidEndpoint, "endpoint '\(url)' uses unsupported transport '\(transport)'", endpoint: url)
        }
        self.url = url
    }

    /// Creates an endpoint from a literal; an invalid literal is a programmer error.
    public init(stringLiteral value: String) {
        do { try self.init(parsing: value) } catch { preconditionFailure(error.message) }
    }

    public var description: String { url }
}
