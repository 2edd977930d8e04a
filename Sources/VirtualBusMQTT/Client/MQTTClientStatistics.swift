/// A snapshot of a client's queues and counters (the same numbers are exported as swift-metrics).
public struct MQTTClientStatistics: Sendable, Hashable {
    /// Publishes waiting in the publish queue.
    public var queueDepth: Int
    /// QoS 1/2 publishes sent and not yet acknowledged.
    public var inFlight: Int
    /// Publishes submitted, immediate rejections included; each ends in exactly one outcome.
    public var publishesAccepted: Int
    /// Publishes that completed their QoS flow.
    public var publishesAcknowledged: Int
    /// Publishes that failed, by ``MQTTError/Code`` name (e.g. `droppedByPolicy`, `sessionLost`, `shutdown`).
    public var publishesFailed: [String: Int]
    /// Messages dropped from subscription buffers because a consumer fell behind.
    public var subscriptionDrops: Int
    /// Local subscriptions alive.
    public var subscriptions: Int
    /// Requests awaiting a response.
    public var pendingRequests: Int
    /// Whether the client is connected now.
    public var isConnected: Bool

    /// Accepted publishes without an outcome yet; 0 once the client is shut down.
    public var publishesPending: Int {
        publishesAccepted - publishesAcknowledged - publishesFailed.values.reduce(0, +)
    }
}
