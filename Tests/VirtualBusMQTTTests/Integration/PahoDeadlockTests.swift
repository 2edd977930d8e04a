import BrokerLauncher
import NIOPosix
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// Field report 1 (Paho): awaiting a publish inside the message handler never returned.
@Suite("Promise 1: awaiting publish inside a subscription loop completes", .timeLimit(.minutes(1)))
struct PahoDeadlockTests {
    @Test("publish at QoS 0, 1, 2 from inside the loop, on the same client", arguments: bothVersions)
    func publishInsideLoop(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "paho")) { client in
                let inbox = try await client.subscribe(to: ["paho/in"], options: .init(qos: .exactlyOnce))
                let outbox = try await client.subscribe(to: ["paho/out/#"], options: .init(qos: .exactlyOnce))
                let rounds = 30
                for i in 0..<rounds {
                    try await client.publish(topic: "paho/in", payload: [UInt8(i)], qos: .atLeastOnce)
                }
                let results = try await withDeadline(.seconds(20), "publishing from inside the loop") {
                    var results: [MQTTPublishResult] = []
                    for try await message in inbox {
                        // The consumer runs in this task, never on a NIO event loop thread.
                        #expect(MultiThreadedEventLoopGroup.currentEventLoop == nil)
                        for qos in MQTTQoS.allCases {
                            // The await that deadlocks Paho: the ack must be read while we wait here.
                            results.append(
                                try await client.publish(
                                    topic: MQTTTopic("paho/out/\(qos.rawValue)"),
                                    payload: message.payload, qos: qos))
                        }
                        if results.count == rounds * 3 { break }
                    }
                    return results
                }
                #expect(results.count == rounds * 3)
                #expect(results.allSatisfy { !$0.reasonCode.isFailure })
                let echoed = try await withDeadline(.seconds(10), "echoes") {
                    var n = 0
                    for try await _ in outbox {
                        n += 1
                        if n == rounds * 3 { break }
                    }
                    return n
                }
                #expect(echoed == rounds * 3)
                let stats = client.statistics
                #expect(stats.publishesAcknowledged == stats.publishesAccepted)  // published means acknowledged
            }
        }
    }
}
