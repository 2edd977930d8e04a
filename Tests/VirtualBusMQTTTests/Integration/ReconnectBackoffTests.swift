import BrokerLauncher
import ConcurrencyPrimitives
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// The reconnect policy's promises: exponential backoff from `initialDelay`, capped at
/// `maximumDelay`, with full jitter (uniform in [0, cap]), and giving up after `maximumAttempts`
/// with the last error. The delays are read from an injected wait (nothing is spent waiting).
@Suite("Reconnect backoff and jitter")
struct ReconnectBackoffTests {
    static let policy = MQTTReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(2))

    @Test("each delay is within [0, min(maximum, initial x 2^attempt)]; the jitter covers the range", arguments: 0..<8)
    func jitterRange(attempt: Int) {
        var rng = SplitMix64(seed: 0x5EED + UInt64(attempt))
        let cap = min(Self.policy.maximumDelay, Self.policy.initialDelay * (1 << attempt))
        let samples = (0..<4_000).map { _ in Self.policy.delay(attempt: attempt, using: &rng) }
        #expect(samples.allSatisfy { $0 >= .zero && $0 <= cap }, "a delay outside [0, \(cap)]")
        // Full jitter, not a fixed delay or a narrow band: the samples reach both ends of the range
        // and average its middle (4,000 uniform samples: the mean is within 3% of cap / 2).
        let seconds = samples.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        let capSeconds = Double(cap.components.seconds) + Double(cap.components.attoseconds) / 1e18
        #expect(seconds.min()! < capSeconds * 0.01 && seconds.max()! > capSeconds * 0.99)
        #expect(abs(seconds.reduce(0, +) / Double(seconds.count) - capSeconds / 2) < capSeconds * 0.03)
    }

    @Test("the cap holds however many attempts have failed (no overflow at attempt 10,000)")
    func capHolds() {
        var rng = SplitMix64(seed: 7)
        for attempt in [20, 63, 64, 1_000, 10_000] {
            #expect(Self.policy.delay(attempt: attempt, using: &rng) <= Self.policy.maximumDelay)
        }
    }

    @Test("maximumAttempts: that many retries, their delays growing by the policy, then run() throws the last error")
    func givesUp() async throws {
        let nobody = try RefusingPort()
        defer { nobody.release() }
        let port = nobody.port
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port, clientID: "backoff")
        configuration.reconnect = MQTTReconnectPolicy(
            initialDelay: .seconds(1), maximumDelay: .seconds(8), maximumAttempts: 5)
        let waited = Locked<[Duration]>([])
        // An hour of backoff in all at most, spent in no time: the wait only records the delay.
        let client = MQTTClient(
            configuration: configuration, reconnectWait: { delay in waited.withLock { $0.append(delay) } })
        let events = client.events()
        await #expect { try await client.run() } throws: { error in
            (error as? MQTTError)?.message == "cannot connect to 127.0.0.1:\(port): connection refused"
        }
        let delays = waited.withLock { $0 }
        #expect(delays.count == 5, "retries: \(delays)")
        for (attempt, delay) in delays.enumerated() {
            #expect(delay <= min(.seconds(8), .seconds(1) * (1 << attempt)), "attempt \(attempt): \(delay)")
        }
        // The events said each delay before it was waited, and that the sixth failure was the last.
        var announced: [Duration?] = []
        for await event in events { if case .connectFailed(_, let retryIn) = event { announced.append(retryIn) } }
        #expect(announced == delays.map { $0 } + [nil])
    }
}
