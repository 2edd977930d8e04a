import Testing
@testable import VirtualBusMQTT

/// The client's subscription table as a value type: reference counts on broker filters, which
/// subscription needs a SUBSCRIBE or an UNSUBSCRIBE, who waits for whose SUBSCRIBE, and routing.
@Suite("Subscription table: shared broker filters and routing, with no I/O")
struct SubscriptionTableTests {
    static func local(_ filters: [MQTTTopicFilter]) -> SubscriptionTable.Local {
        SubscriptionTable.Local(
            filters: filters, buffer: MQTTSubscriptionBuffer(capacity: 8, dropOldest: false, onDrop: {}))
    }

    @Test("a new filter needs a SUBSCRIBE; the same filter again shares it and waits for the one in flight")
    func sharedFilters() {
        var table = SubscriptionTable()
        let first = table.add(Self.local(["a/#"]), options: .init(qos: .atLeastOnce))
        #expect(first.fresh.map(\.filter) == ["a/#"] && first.inFlight.isEmpty)
        let subscribe = MQTTWaiter<[MQTTReasonCode]>()
        table.markPending(["a/#"], subscribe)
        let second = table.add(Self.local(["a/#"]), options: .init(qos: .atMostOnce))
        #expect(second.fresh.isEmpty, "a lower QoS is covered by the broker subscription")
        #expect(second.inFlight.count == 1 && second.inFlight[0] === subscribe)
        #expect(table.brokerFilters["a/#"]?.references == 2)
        table.settle(["a/#"], waits: [subscribe])
        #expect(
            table.add(Self.local(["a/#"]), options: .init(qos: .atLeastOnce)).inFlight.isEmpty,
            "settled: nothing to wait for")
    }

    @Test("a higher QoS subscribes the filter again at that QoS")
    func higherQoS() {
        var table = SubscriptionTable()
        _ = table.add(Self.local(["t"]), options: .init(qos: .atMostOnce))
        let raised = table.add(Self.local(["t"]), options: .init(qos: .exactlyOnce))
        #expect(raised.fresh.map(\.options.qos) == [.exactlyOnce])
        #expect(table.brokerFilters["t"]?.options.qos == .exactlyOnce)
    }

    @Test("the last holder of a filter releases it; the others keep it")
    func release() throws {
        var table = SubscriptionTable()
        let one = table.add(Self.local(["x", "y"]), options: .init(qos: .atLeastOnce))
        let two = table.add(Self.local(["y"]), options: .init(qos: .atLeastOnce))
        let first = table.remove(one.id), second = table.remove(two.id), again = table.remove(two.id)
        #expect(first?.released == ["x"])
        #expect(second?.released == ["y"])
        #expect(again == nil, "removed once")
        #expect(table.brokerFilters.isEmpty && table.count == 0)
    }

    @Test("routing: each matching local subscription once, whatever number of its filters match")
    func routing() {
        var table = SubscriptionTable()
        _ = table.add(Self.local(["s/+", "s/#"]), options: .init(qos: .atLeastOnce))
        _ = table.add(Self.local(["other"]), options: .init(qos: .atLeastOnce))
        #expect(table.matching("s/1").count == 1)
        #expect(table.matching("nothing").isEmpty)
    }

    @Test("a new connection resubscribes everything without a session, only what is pending with one")
    func resubscriptions() {
        var table = SubscriptionTable()
        _ = table.add(Self.local(["held"]), options: .init(qos: .atLeastOnce))
        _ = table.add(Self.local(["offline"]), options: .init(qos: .exactlyOnce))
        table.markPending(["offline"], MQTTWaiter<[MQTTReasonCode]>())
        #expect(Set(table.resubscriptions(all: true).map(\.filter)) == ["held", "offline"])
        #expect(table.resubscriptions(all: false).map(\.filter) == ["offline"])
        let (locals, pending) = table.removeAll()
        #expect(locals.count == 2 && pending.count == 1 && table.count == 0)
    }
}
