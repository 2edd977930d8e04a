import Testing
import VirtualBusBridge

@testable import VirtualBusMQTT

/// Runs `body`, failing with a clear message when it does not finish within `timeout`.
func withDeadline<R: Sendable>(_ timeout: Duration, _ what: String = "operation",
                               _ body: @escaping @Sendable () async throws -> R) async throws -> R {
    try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw DeadlineExceeded(what: what, timeout: timeout)
        }
        group.cancelAll()
        return value
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var what: String
    var timeout: Duration
    var description: String { "\(what) did not finish within \(timeout)" }
}

/// Polls `condition` until it holds or the timeout passes (for observing counters).
func eventually(_ timeout: Duration = .seconds(10), _ what: String, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { throw DeadlineExceeded(what: what, timeout: timeout) }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// A configuration for a test client against `broker`.
func testConfiguration(_ broker: PrivateBroker, _ version: MQTTProtocolVersion, _ name: String) -> MQTTClientConfiguration {
    MQTTClientConfiguration(host: "127.0.0.1", port: broker.port, version: version,
                            clientID: "\(name)-\(version.rawValue)-\(UInt32.random(in: 0...UInt32.max))", keepAlive: .seconds(30))
}

/// Starts `client.run()` in the background and waits for CONNACK.
func startClient(_ client: MQTTClient) async throws -> Task<Void, any Error> {
    let task = Task { try await client.run() }
    try await withDeadline(.seconds(10), "connect") { try await client.waitUntilConnected() }
    return task
}

let bothVersions: [MQTTProtocolVersion] = [.v3_1_1, .v5]
