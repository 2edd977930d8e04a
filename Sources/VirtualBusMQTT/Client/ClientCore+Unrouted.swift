extension ClientCore {
    /// A QoS 1/2 message that matched no local subscription, held unacknowledged for a while.
    struct Unrouted {
        var message: MQTTMessage
        var inbound: UInt16
        var generation: UInt64
    }

    /// On a resumed session the broker resends unacknowledged messages, and sends what it queued
    /// while we were away, right after CONNACK — before an application that subscribes once
    /// connected has made its local subscription. Acknowledging those as unrouted would lose them
    /// (a manual subscription's whole promise), so for ``MQTTClientConfiguration/unroutedMessageGrace``
    /// after such a CONNACK they are held unacknowledged and handed to the first matching
    /// subscription made meanwhile. Bounded like every unacknowledged message: by the broker's
    /// flow control, and by the packet-identifier space.
    func holdUnrouted(_ message: MQTTMessage, inbound: UInt16, _ s: inout State) -> Bool {
        guard let until = s.holdUnroutedUntil, ContinuousClock.now < until else { return false }
        s.unrouted.append(
            Unrouted(message: message, inbound: inbound, generation: s.machine.inboundGeneration(of: inbound)))
        return true
    }

    /// A new local subscription takes the held messages it matches.
    func claimUnrouted(for local: LocalSubscription, _ s: inout State, _ effects: inout [Effect]) {
        guard !s.unrouted.isEmpty else { return }
        var kept: [Unrouted] = []
        for held in s.unrouted {
            guard local.filters.contains(where: { $0.matches(held.message.topic) }) else {
                kept.append(held)
                continue
            }
            let manual = deliver(held.message, inbound: held.inbound, to: local, &s, &effects)
            apply(s.machine.expectAcknowledgements(manual ? 1 : 0, for: held.inbound), to: &s, effects: &effects)
        }
        s.unrouted = kept
    }

    /// Starts the grace period after a CONNACK that resumed a session.
    func startUnroutedGrace(sessionPresent: Bool, _ s: inout State) {
        // Held from the previous connection and never delivered: the broker resends them.
        for held in s.unrouted { s.machine.forgetInbound(held.inbound, generation: held.generation) }
        s.unrouted = []
        let grace = configuration.unroutedMessageGrace
        s.holdUnroutedUntil = sessionPresent && grace > .zero ? ContinuousClock.now + grace : nil
    }

    /// After the grace period, what nobody claimed is acknowledged and dropped (as before it).
    func releaseUnrouted(now: ContinuousClock.Instant, _ s: inout State) -> [Machine.Action] {
        guard let until = s.holdUnroutedUntil, now >= until else { return [] }
        s.holdUnroutedUntil = nil
        if !s.unrouted.isEmpty {
            logger.debug(
                "MQTT messages matched no subscription after the grace period",
                metadata: ["count": "\(s.unrouted.count)"])
        }
        defer { s.unrouted = [] }
        return s.unrouted.flatMap { s.machine.expectAcknowledgements(0, for: $0.inbound) }
    }
}
