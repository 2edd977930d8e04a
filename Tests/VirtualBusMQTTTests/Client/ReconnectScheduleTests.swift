import Testing
import TestSupport
@testable import VirtualBusMQTT

/// The reconnect decision as a value type: when the client tries again and when it gives up, with
/// a seeded generator for the jitter (ReconnectBackoffTests runs the same through a real client on
/// an injected reconnect wait).
@Suite("Reconnect schedule: backoff, attempts, and the failures no reconnect can mend")
struct ReconnectScheduleTests {
    static let lost = MQTTError(.connectionFailed, "connection refused")

    @Test("without a policy the first failure is final")
    func noPolicy() {
        var schedule = ReconnectSchedule(policy: nil)
        var rng = SplitMix64(seed: 1)
        #expect(schedule.delay(after: Self.lost, using: &rng) == nil)
    }

    @Test(
        """
        delays stay within the growing cap; maximumAttempts failures in a row, then give up; a connection starts \
        the count again
        """
    )
    func attempts() {
        var schedule = ReconnectSchedule(
            policy: MQTTReconnectPolicy(
                initialDelay: .milliseconds(10), maximumDelay: .milliseconds(50), maximumAttempts: 4))
        var rng = SplitMix64(seed: 7)
        for attempt in 0..<4 {
            let delay = schedule.delay(after: Self.lost, using: &rng)
            let cap = min(Duration.milliseconds(50), .milliseconds(10) * (1 << attempt))
            #expect(
                delay.map { $0 >= .zero && $0 <= cap } == true,
                "attempt \(attempt): \(String(describing: delay)) within \(cap)")
        }
        #expect(schedule.delay(after: Self.lost, using: &rng) == nil, "the fifth failure in a row gives up")
        schedule.connected()
        #expect(schedule.attempt == 0 && schedule.delay(after: Self.lost, using: &rng) != nil)
    }

    @Test(
        "refusals no reconnect can mend are final; a broker's 'not now' is retried",
        arguments: [
            (MQTTError(.connectionRefused, "bad password", reasonCode: .badUserNameOrPassword), true),
            (MQTTError(.connectionRefused, "busy", reasonCode: .serverBusy), false),
            (MQTTError(.unsupportedProtocolVersion, "MQTT 5.0 refused"), true),
            (MQTTError(.connectionFailed, "reset"), false),
        ])
    func finalFailures(error: MQTTError, isFinal: Bool) {
        var schedule = ReconnectSchedule(policy: MQTTReconnectPolicy())
        var rng = SplitMix64(seed: 3)
        #expect((schedule.delay(after: error, using: &rng) == nil) == isFinal)
    }

    @Test("a TLS failure is final before the first connection and retried after one")
    func tls() {
        let failure = MQTTError(.tls, "certificate not trusted")
        var schedule = ReconnectSchedule(policy: MQTTReconnectPolicy())
        var rng = SplitMix64(seed: 5)
        #expect(schedule.delay(after: failure, using: &rng) == nil)
        schedule.connected()
        #expect(schedule.delay(after: failure, using: &rng) != nil)
    }
}
