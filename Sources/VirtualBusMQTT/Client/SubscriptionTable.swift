/// The client's local subscriptions and the broker subscriptions they share: a value type kept in
/// the client's state under its lock, with no I/O (unit-tested on its own).
///
/// Local subscriptions hold reference counts on broker filters. A SUBSCRIBE is needed when a filter
/// is new or is asked for at a higher QoS; a subscriber whose filters are already on their way waits
/// for that SUBSCRIBE instead of sending its own; an UNSUBSCRIBE is needed when the last holder goes.
struct SubscriptionTable {
    /// One `subscribe(to:)` of the application.
    struct Local {
        var filters: [MQTTTopicFilter]
        var buffer: MQTTSubscriptionBuffer
        /// ``MQTTAcknowledgementMode/manual``: QoS 1/2 messages carry an acknowledgement handle.
        var manual = false
    }

    /// A filter as the broker holds it for this client.
    struct BrokerFilter {
        var references: Int
        var options: MQTTSubscriptionOptions
        /// The SUBSCRIBE in flight for it, shared by everyone subscribing meanwhile.
        var pending: MQTTWaiter<[MQTTReasonCode]>?
    }

    /// What adding a local subscription needs from the session.
    struct Added {
        var id: UInt64
        /// Filters to SUBSCRIBE: new ones, and ones asked for at a higher QoS than the broker has.
        var fresh: [(filter: MQTTTopicFilter, options: MQTTSubscriptionOptions)]
        /// SUBSCRIBEs already in flight for the other filters, whose outcome this one shares.
        var inFlight: [MQTTWaiter<[MQTTReasonCode]>]
    }

    private(set) var locals: [UInt64: Local] = [:]
    private(set) var brokerFilters: [MQTTTopicFilter: BrokerFilter] = [:]
    private var nextID: UInt64 = 1

    /// The number of local subscriptions.
    var count: Int { locals.count }

    /// Adds a local subscription whose broker filters carry `options`.
    mutating func add(_ local: Local, options: MQTTSubscriptionOptions) -> Added {
        let id = nextID
        nextID += 1
        locals[id] = local
        var added = Added(id: id, fresh: [], inFlight: [])
        for filter in Set(local.filters) {
            if var entry = brokerFilters[filter] {
                entry.references += 1
                if options.qos > entry.options.qos {
                    entry.options = options
                    added.fresh.append((filter, options))
                } else if let pending = entry.pending {
                    added.inFlight.append(pending)
                }
                brokerFilters[filter] = entry
            } else {
                brokerFilters[filter] = BrokerFilter(references: 1, options: options)
                added.fresh.append((filter, options))
            }
        }
        return added
    }

    /// Marks `filters` as on their way to the broker in the SUBSCRIBE that completes `waiter`.
    mutating func markPending(_ filters: some Sequence<MQTTTopicFilter>, _ waiter: MQTTWaiter<[MQTTReasonCode]>) {
        for filter in filters { brokerFilters[filter]?.pending = waiter }
    }

    /// The SUBSCRIBEs in `waits` are finished: later subscribers to `filters` need not wait for them.
    mutating func settle(_ filters: [MQTTTopicFilter], waits: [MQTTWaiter<[MQTTReasonCode]>]) {
        for filter in filters
        where brokerFilters[filter]?.pending.map({ pending in waits.contains { $0 === pending } }) == true {
            brokerFilters[filter]?.pending = nil
        }
    }

    /// Removes a local subscription; returns it and the broker filters nobody holds any more.
    mutating func remove(_ id: UInt64) -> (local: Local, released: [MQTTTopicFilter])? {
        guard let local = locals.removeValue(forKey: id) else { return nil }
        var released: [MQTTTopicFilter] = []
        for filter in Set(local.filters) {
            guard var entry = brokerFilters[filter] else { continue }
            entry.references -= 1
            if entry.references == 0 {
                brokerFilters[filter] = nil
                released.append(filter)
            } else {
                brokerFilters[filter] = entry
            }
        }
        return (local, released)
    }

    /// Every local subscription with a filter that matches `topic` (each once).
    func matching(_ topic: MQTTTopic) -> [Local] {
        locals.values.filter { $0.filters.contains { $0.matches(topic) } }
    }

    /// What to SUBSCRIBE on a new connection: every filter when the broker has no session of ours
    /// (`all`), else only those whose SUBSCRIBE was registered offline or cut off.
    func resubscriptions(all: Bool) -> [(filter: MQTTTopicFilter, options: MQTTSubscriptionOptions)] {
        brokerFilters.filter { $0.value.references > 0 && (all || $0.value.pending != nil) }.map {
            ($0.key, $0.value.options)
        }
    }

    /// The SUBSCRIBEs in flight for `filters`.
    func pendingWaiters(for filters: some Sequence<MQTTTopicFilter>) -> [MQTTWaiter<[MQTTReasonCode]>] {
        filters.compactMap { brokerFilters[$0]?.pending }
    }

    /// Empties the table (the client shuts down): the locals to finish and the SUBSCRIBEs to fail.
    mutating func removeAll() -> (locals: [Local], pending: [MQTTWaiter<[MQTTReasonCode]>]) {
        defer {
            locals = [:]
            brokerFilters = [:]
        }
        return (Array(locals.values), brokerFilters.values.compactMap(\.pending))
    }
}
