import ConcurrencyPrimitives
import Logging
import Synchronization
import VirtualBusMQTT

/// A foreign MQTT client on the scenario's broker: the other side of the bridge. It counts the
/// distinct tracked messages it receives (what the bridge relayed out) and publishes at QoS 1 for
/// the bridge to relay in.
final class MQTTPeer: Sendable {
    let client: MQTTClient
    private let running: Task<Void, Never>
    private let received = Locked<Set<[UInt8]>>([])
    private let published = Atomic<Int>(0)
    private let acknowledged = Atomic<Int>(0)

    /// Connects (bounded by `within`); throws when the broker does not accept the connection.
    init(port: Int, clientID: String, within limit: Duration, logger: Logger) async throws {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port, clientID: clientID)
        // Counting is exact only if the peer's own buffer never drops.
        configuration.subscriptionBufferCapacity = 1_000_000
        configuration.connectTimeout = limit
        let client = MQTTClient(configuration: configuration, logger: logger)
        self.client = client
        running = Task { try? await client.run() }
        do {
            try await client.waitUntilConnected()
        } catch {
            await close()
            throw error
        }
    }

    /// Distinct tracked payloads received on `filter` so far.
    var receivedCount: Int { received.withLock { $0.count } }
    /// QoS 1 publishes the broker acknowledged.
    var acknowledgedCount: Int { acknowledged.load(ordering: .relaxed) }
    /// QoS 1 publishes attempted (acknowledged, failed, or cut off by shutdown).
    var publishedCount: Int { published.load(ordering: .relaxed) }

    /// Subscribes to `filter` at QoS 1 and counts what arrives until the peer closes.
    func count(_ filter: String) async throws(MQTTError) -> Task<Void, Never> {
        let subscription = try await client.subscribe(to: [MQTTTopicFilter(filter)])
        return Task { [received] in
            do {
                for try await message in subscription {
                    _ = received.withLock { $0.insert(message.payload) }
                }
            } catch {
                // The session ended: counting stops there.
            }
        }
    }

    /// Publishes `count` tracked messages at QoS 1 on `topic` (publisher index `index`), each after
    /// the previous one's PUBACK, stopping at the first failure.
    func publish(_ count: Int, on topic: String, index: Int) async {
        guard let topic = try? MQTTTopic(topic) else { return }
        for _ in 0..<count {
            let sequence = UInt64(published.add(1, ordering: .relaxed).newValue)
            do throws(MQTTError) {
                _ = try await client.publish(
                    topic: topic, payload: TrackedPublisher.payload(index: index, sequence: sequence), qos: .atLeastOnce
                )
                acknowledged.add(1, ordering: .relaxed)
            } catch {
                return
            }
        }
    }

    /// Waits (bounded) until `count` distinct messages have arrived; `false` after `limit`.
    func awaitReceived(_ count: Int, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while receivedCount < count {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(1))  // polling a counter, bounded by the deadline
        }
        return true
    }

    /// Disconnects and waits for the client's run to end.
    func close() async {
        client.shutdown()
        await running.value
    }
}
