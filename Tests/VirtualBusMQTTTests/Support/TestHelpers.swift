import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// A configuration for a test client against `broker`.
func testConfiguration(_ broker: PrivateBroker, _ version: MQTTProtocolVersion, _ name: String)
    -> MQTTClientConfiguration
{
    MQTTClientConfiguration(
        host: "127.0.0.1", port: broker.port, version: version,
        clientID: "\(name)-\(version.rawValue)-\(UInt32.random(in: 0...UInt32.max))", keepAlive: .seconds(30))
}

/// Starts `client.run()` in the background and waits for CONNACK.
func startClient(_ client: MQTTClient) async throws -> Task<Void, any Error> {
    let task = Task { try await client.run() }
    try await withDeadline(.seconds(10), "connect") { try await client.waitUntilConnected() }
    return task
}

let bothVersions: [MQTTProtocolVersion] = [.v3_1_1, .v5]
