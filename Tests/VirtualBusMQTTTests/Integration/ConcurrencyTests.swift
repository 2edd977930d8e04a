import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// Field report 3 (MQTTnet): parallel requests on one client got each other's acknowledgements.
@Suite("Promise 3: one client, 1,000 concurrent tasks", .timeLimit(.minutes(1)))
struct ConcurrencyTests {
    enum Outcome: Sendable, Equatable {
        case published
        case ownMessage
        case response
    }

    @Test(
        "publish / subscribe / unsubscribe / request from 1,000 tasks: every ack matched, no cross-talk",
        arguments: bothVersions)
    func thousandTasks(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            let responder = MQTTClient(configuration: testConfiguration(broker, version, "responder"))
            let responderTask = try await startClient(responder)
            let requests = try await responder.subscribe(to: ["conc/req"], options: .init(qos: .atLeastOnce))
            let echo = Task {
                for try await message in requests {
                    // Echo from many tasks so responses overtake each other.
                    Task { try await responder.respond(to: message, payload: message.payload, qos: .atLeastOnce) }
                }
            }
            try await MQTTClient.withConnection(configuration: testConfiguration(broker, version, "conc")) { client in
                let outcomes = try await withDeadline(.seconds(45), "1,000 concurrent tasks") {
                    try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
                        for i in 0..<1_000 {
                            group.addTask {
                                let payload = [UInt8(i >> 8), UInt8(i & 0xFF)]
                                switch i % 4 {
                                case 0, 1:
                                    let r = try await client.publish(
                                        topic: MQTTTopic("conc/p/\(i)"), payload: payload,
                                        qos: i % 4 == 0 ? .atLeastOnce : .exactlyOnce)
                                    #expect(!r.reasonCode.isFailure)
                                    return (i, .published)
                                case 2:
                                    let sub = try await client.subscribe(
                                        to: [MQTTTopicFilter("conc/s/\(i)")], options: .init(qos: .exactlyOnce))
                                    try await client.publish(
                                        topic: MQTTTopic("conc/s/\(i)"), payload: payload, qos: .exactlyOnce)
                                    var it = sub.makeAsyncIterator()
                                    let got = try await it.next()
                                    #expect(got?.payload == payload, "cross-talk on task \(i)")
                                    try await sub.unsubscribe()
                                    return (i, .ownMessage)
                                default:
                                    guard version == .v5 else {
                                        try await client.publish(topic: "conc/q", payload: payload, qos: .atMostOnce)
                                        return (i, .published)
                                    }
                                    let response = try await client.request(
                                        topic: "conc/req", payload: payload, timeout: .seconds(30))
                                    #expect(
                                        response.payload == payload,
                                        "response for task \(i) carried another task's payload")
                                    return (i, .response)
                                }
                            }
                        }
                        var all: [Int: Outcome] = [:]
                        for try await (i, o) in group { all[i] = o }
                        return all
                    }
                }
                #expect(outcomes.count == 1_000)
                #expect(outcomes.values.filter { $0 == .ownMessage }.count == 250)
                if version == .v5 { #expect(outcomes.values.filter { $0 == .response }.count == 250) }
                let stats = client.statistics
                #expect(stats.publishesAccepted == stats.publishesAcknowledged)
                #expect(stats.inFlight == 0 && stats.pendingRequests == 0)
                #expect(
                    client.core.state.withLock { s in
                        s.machine.pendingSubscribes.isEmpty && s.machine.pendingUnsubscribes.isEmpty
                    })
            }
            echo.cancel()
            responder.shutdown()
            try await responderTask.value
        }
    }
}
