/// MQTT 5 request/response bookkeeping: the response topic, and the requests waiting for their
/// response by correlation data. A value type kept in the client's state under its lock, with no
/// I/O (unit-tested on its own). Responses are matched by correlation data only, so any number of
/// requests may be in flight at once.
struct RequestTable {
    /// This client's response topic, chosen on first use.
    var responseTopic: MQTTTopic?
    /// The response-topic subscription, shared by all requests (kept alive here).
    var responseReady: MQTTWaiter<MQTTSubscription>?
    private var waiting: [UInt64: MQTTWaiter<MQTTMessage>] = [:]
    private var nextID: UInt64 = 1

    /// The number of requests waiting for a response.
    var count: Int { waiting.count }

    /// Registers a request; returns its id and the 8 bytes of Correlation Data that name it.
    mutating func add(_ waiter: MQTTWaiter<MQTTMessage>) -> (id: UInt64, correlation: [UInt8]) {
        let id = nextID
        nextID += 1
        waiting[id] = waiter
        return (id, Self.correlation(of: id))
    }

    /// Removes a request (answered, timed out, or its publish failed).
    mutating func remove(_ id: UInt64) -> MQTTWaiter<MQTTMessage>? {
        waiting.removeValue(forKey: id)
    }

    /// The request id a message on the response topic names (`nil`: it is no response; route it as
    /// usual). Whether that request still waits is ``remove(_:)``'s answer.
    func requestID(answeredBy message: MQTTMessage) -> UInt64? {
        guard message.topic == responseTopic, let data = message.properties.correlationData, data.count == 8 else {
            return nil
        }
        return Self.id(of: data)
    }

    /// Empties the table (the client shuts down): the requests to fail.
    mutating func removeAll() -> [MQTTWaiter<MQTTMessage>] {
        defer { waiting = [:] }
        return Array(waiting.values)
    }

    static func correlation(of id: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: id >> (56 - 8 * UInt64($0))) }
    }

    static func id(of correlation: [UInt8]) -> UInt64 {
        correlation.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}
