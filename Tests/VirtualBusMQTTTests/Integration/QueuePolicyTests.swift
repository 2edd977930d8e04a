import BrokerLauncher
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// Field report 2 (rumqttc): a full request channel blocked forever, with no way to see its depth.
@Suite("Promise 2: bounded queues with stated policies", .timeLimit(.minutes(1)))
struct QueuePolicyTests {
    func offlineClient(
        _ broker: PrivateBroker, _ version: MQTTProtocolVersion, policy: MQTTQueuePolicy,
        capacity: Int = 5
    ) -> MQTTClient {
        var config = testConfiguration(broker, version, "queue")
        config.publishQueueCapacity = capacity
        config.publishQueuePolicy = policy
        return MQTTClient(configuration: config)
    }

    @Test("fail fast: tryPublish throws queueFull at once; queued ones go out on connect", arguments: bothVersions)
    func failFast(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            let client = offlineClient(broker, version, policy: .failFast)
            var tickets: [MQTTPublishTicket] = []
            for i in 0..<5 {
                tickets.append(try client.tryPublish(topic: "q/ff", payload: [UInt8(i)], qos: .atLeastOnce))
            }
            #expect(client.statistics.queueDepth == 5)
            #expect(throws: MQTTError.self) { try client.tryPublish(topic: "q/ff", payload: [9], qos: .atLeastOnce) }
            let error = #expect(throws: MQTTError.self) {
                try client.tryPublish(topic: "q/ff", payload: [9], qos: .atMostOnce)
            }
            #expect(error?.code == .queueFull)
            let task = try await startClient(client)
            for t in tickets { #expect(try await t.result().qos == .atLeastOnce) }
            let stats = client.statistics
            #expect(
                stats.publishesAccepted == 7 && stats.publishesAcknowledged == 5
                    && stats.publishesFailed == ["queueFull": 2])
            #expect(stats.queueDepth == 0 && stats.publishesPending == 0)
            client.shutdown()
            try await task.value
        }
    }

    @Test("drop oldest and drop newest fail exactly the dropped messages, counted", arguments: bothVersions)
    func dropPolicies(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            for policy in [MQTTQueuePolicy.dropOldest, .dropNewest] {
                let client = offlineClient(broker, version, policy: policy)
                var tickets: [Int: MQTTPublishTicket] = [:]
                var rejectedAtOnce: [Int] = []
                for i in 0..<8 {
                    do throws(MQTTError) {
                        tickets[i] = try client.tryPublish(topic: "q/drop", payload: [UInt8(i)], qos: .exactlyOnce)
                    } catch {
                        #expect(error.code == .droppedByPolicy)
                        rejectedAtOnce.append(i)
                    }
                }
                #expect(client.statistics.queueDepth == 5)
                let task = try await startClient(client)
                var delivered: [Int] = []
                var dropped: [Int] = []
                for (i, t) in tickets {
                    do throws(MQTTError) {
                        _ = try await t.result()
                        delivered.append(i)
                    } catch {
                        #expect(error.code == .droppedByPolicy)
                        dropped.append(i)
                    }
                }
                if policy == .dropOldest {
                    #expect(dropped.sorted() == [0, 1, 2] && delivered.sorted() == [3, 4, 5, 6, 7])
                } else {
                    #expect(rejectedAtOnce == [5, 6, 7] && delivered.sorted() == [0, 1, 2, 3, 4])
                }
                let stats = client.statistics
                #expect(stats.publishesAccepted == 8 && stats.publishesFailed["droppedByPolicy"] == 3)
                #expect(stats.publishesPending == 0)
                client.shutdown()
                try await task.value
            }
        }
    }

    @Test(
        "wait with deadline: publish waits for room, times out when none comes, resumes when it does",
        arguments: bothVersions)
    func waitPolicy(version: MQTTProtocolVersion) async throws {
        try await PrivateBroker.with { broker in
            // Times out: nothing makes room while the client is offline.
            let offline = offlineClient(broker, version, policy: .wait(timeout: .milliseconds(500)), capacity: 2)
            for payload: UInt8 in [1, 2] {
                _ = try offline.tryPublish(topic: "q/w", payload: [payload], qos: .atLeastOnce)
            }
            // tryPublish never waits, even under the wait policy.
            #expect(throws: MQTTError.self) { try offline.tryPublish(topic: "q/w", payload: [3], qos: .atLeastOnce) }
            let start = ContinuousClock.now
            let timedOut = await #expect(throws: MQTTError.self) {
                try await offline.publish(topic: "q/w", payload: [4], qos: .atLeastOnce)
            }
            #expect(timedOut?.code == .timeout)
            #expect(ContinuousClock.now - start >= .milliseconds(500))
            offline.shutdown()

            // Resumes: a publish waiting on a full queue completes once the queue drains on connect.
            // A client of its own with a deadline that connecting on a loaded machine cannot reach.
            let client = offlineClient(broker, version, policy: .wait(timeout: .seconds(30)), capacity: 2)
            let first = try client.tryPublish(topic: "q/w", payload: [1], qos: .atLeastOnce)
            _ = try client.tryPublish(topic: "q/w", payload: [2], qos: .atLeastOnce)
            let waiting = Task { try await client.publish(topic: "q/w", payload: [5], qos: .atLeastOnce) }
            try await waitUntil("the publish waiting for room", within: .seconds(10)) {
                client.core.state.withLock { !$0.spaceWaiters.isEmpty }
            }
            let task = try await startClient(client)
            _ = try await first.result()
            let r = try await waiting.value
            #expect(r.qos == .atLeastOnce)
            client.shutdown()
            try await task.value
        }
    }

    @Test(
        """
        a slow subscriber loses the oldest or the newest messages as its policy says, counted; the network never \
        blocks
        """,
        arguments: bothVersions, [MQTTSubscriptionBufferPolicy.dropOldest, .dropNewest])
    func subscriptionBuffer(version: MQTTProtocolVersion, policy: MQTTSubscriptionBufferPolicy) async throws {
        try await PrivateBroker.with { broker in
            var config = testConfiguration(broker, version, "slow")
            config.subscriptionBufferCapacity = 10
            config.subscriptionBufferPolicy = policy
            try await MQTTClient.withConnection(configuration: config) { client in
                let sub = try await client.subscribe(to: ["slow/t"], options: .init(qos: .atLeastOnce))
                for i in 0..<50 { try await client.publish(topic: "slow/t", payload: [UInt8(i)], qos: .atLeastOnce) }
                try await waitUntil("50 messages buffered or dropped", within: .seconds(10)) { sub.droppedCount == 40 }
                #expect(sub.bufferedCount == 10)
                #expect(client.statistics.subscriptionDrops == 40)
                var got: [UInt8] = []
                for try await m in sub {
                    got += m.payload
                    if got.count == 10 { break }
                }
                #expect(got == (policy == .dropOldest ? Array(40..<50) : Array(0..<10)))
            }
        }
    }
}
