import ArgumentParser
import VirtualBusMQTT

/// `vbus bridge --broker URL[,URL...]` and `--mqtt-version auto`: the brokers of a cluster, tried in
/// order, and the MQTT version the broker speaks.
enum BridgeBrokers {
    /// The URLs of a `--broker` value, in order. They must agree on TLS: one `--tls-ca` serves all.
    static func urls(_ text: String) throws -> [BrokerURL] {
        let urls = try text.split(separator: ",").map {
            try BrokerURL(parsing: $0.trimmingCharacters(in: .whitespaces))
        }
        guard let first = urls.first else { throw ValidationError("--broker is empty") }
        guard urls.allSatisfy({ $0.isSecure == first.isSecure }) else {
            throw ValidationError("--broker: give all URLs as mqtt:// or all as mqtts://, not both")
        }
        return urls
    }

    /// The brokers after the first, as the client's alternates.
    static func alternates(_ text: String?, tls: Bool) throws -> [MQTTBrokerEndpoint] {
        guard let text else { return [] }
        return try urls(text).dropFirst().map { MQTTBrokerEndpoint(host: $0.host, port: $0.port(tls: tls)) }
    }

    /// MQTT 5.0 when the broker speaks it, else 3.1.1, found with short connections of their own
    /// (clean, no will, a client id of their own: the bridge's session is not touched).
    ///
    /// 5.0 first. A broker that refuses it (`unsupportedProtocolVersion`) gets 3.1.1 at once; one
    /// that fails 5.0 another way (amqtt lets the CONNECT time out) gets 3.1.1 if a 3.1.1
    /// connection works. When neither connects (no broker yet), both are tried again every
    /// second, so the bridge can start before its broker as it can with a fixed version.
    static func negotiateVersion(_ configuration: MQTTClientConfiguration) async throws -> MQTTProtocolVersion {
        var probe = configuration
        probe.clientID = "\(configuration.clientID)-version"
        probe.cleanStart = true
        probe.sessionExpiry = 0
        probe.will = nil
        probe.reconnect = nil
        var waitingSaid = false
        while true {
            for endpoint in configuration.endpoints {
                probe.host = endpoint.host
                probe.port = endpoint.port
                let fiveFailed: MQTTError
                do {
                    try await connects(probe, .v5)
                    return .v5
                } catch {
                    fiveFailed = error
                }
                if fiveFailed.code != .unsupportedProtocolVersion {
                    do { try await connects(probe, .v3_1_1) } catch { continue }
                }
                Output.status(
                    "vbus bridge: \(endpoint) does not speak MQTT 5.0 (\(fiveFailed.message)); using MQTT 3.1.1")
                return .v3_1_1
            }
            if !waitingSaid {
                Output.status("vbus bridge: --mqtt-version auto: no broker answered yet; trying again every second")
                waitingSaid = true
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    private static func connects(_ configuration: MQTTClientConfiguration, _ version: MQTTProtocolVersion)
        async throws(MQTTError)
    {
        var configuration = configuration
        configuration.version = version
        do {
            try await MQTTClient.withConnection(configuration: configuration) { _ in }
        } catch let error as MQTTError {
            throw error
        } catch {
            throw MQTTError(.connectionFailed, "\(error)")
        }
    }
}
