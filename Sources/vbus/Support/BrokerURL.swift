import ArgumentParser
import Foundation

/// A `--broker` option: `mqtt://HOST:PORT` or `mqtts://HOST:PORT`.
struct BrokerURL {
    let host: String
    /// The port as given, if it was.
    let explicitPort: Int?
    /// `mqtts`: connect with TLS.
    let isSecure: Bool

    init(parsing text: String) throws {
        guard let url = URLComponents(string: text), let host = url.host, ["mqtt", "mqtts"].contains(url.scheme) else {
            throw ValidationError("--broker must look like mqtt://HOST:PORT or mqtts://HOST:PORT, got '\(text)'")
        }
        self.host = host
        explicitPort = url.port
        isSecure = url.scheme == "mqtts"
    }

    /// The port to use: the one given, or MQTT's default for the transport (8883 with TLS, 1883 without).
    func port(tls: Bool) -> Int { explicitPort ?? (tls ? 8883 : 1883) }
}
