import VirtualBus
import VirtualBusMQTT

extension MQTTBridge {
    /// At most this many publishes towards MQTT wait for their outcome at once (the MQTT session's
    /// own queue bounds what is beyond).
    static let maximumPendingOutcomes = 10_000

    /// Bus -> MQTT. Publishes are pipelined: each is handed to the session at once and its outcome
    /// is awaited on a child task, at most ``maximumPendingOutcomes`` at a time.
    func relayOut(_ subscription: BusSubscription) async {
        let isV5 = mqtt.configuration.version == .v5
        await withTaskGroup(of: Void.self) { outcomes in
            var pending = 0
            for await message in subscription {
                if message.origin == id {
                    continue // ours, brought in from MQTT: never sent back out
                }
                guard let (index, rule, topic) = route(outbound: message.topic) else { continue }
                let payload = Array(message.payload)
                counters.update(index) { $0.forwardedOut += 1 }
                if !isV5 && rule.direction == .both { echoes.expect(topic: topic, payload: payload) }
                let qos = MQTTQoS(rawValue: UInt8(rule.qos)) ?? .atLeastOnce
                outcomes.addTask {
                    do throws(MQTTError) {
                        _ = try await self.mqtt.publish(topic: MQTTTopic(topic), payload: payload, qos: qos, retain: rule.retain == .always)
                        self.counters.update(index) { $0.acknowledgedOut += 1 }
                    } catch {
                        self.counters.update(index) { $0.failedOut[error.code.description, default: 0] += 1 }
                    }
                }
                pending += 1
                if pending >= Self.maximumPendingOutcomes {
                    await outcomes.next()
                    pending -= 1
                }
            }
        }
    }

    /// MQTT -> bus, tagged with the bridge's origin.
    func relayIn(_ subscription: MQTTSubscription, rule index: Int) async {
        let rule = rules[index]
        do {
            let publisher = try bus.makePublisher(policy: .block(timeout: .seconds(5)))
            for try await message in subscription {
                if echoes.consume(topic: message.topic.name, payload: message.payload) {
                    counters.update(index) { $0.loopsPrevented += 1 }
                    continue
                }
                guard let topic = rule.busTopic(forMQTTTopic: message.topic.name) else { continue }
                do throws(BusError) {
                    try publisher.publish(BusMessage(topic: topic, payload: message.payload, origin: id))
                    counters.update(index) { $0.forwardedIn += 1 }
                } catch {
                    counters.update(index) { $0.droppedIn[error.code.description, default: 0] += 1 }
                }
            }
        } catch {
            logger.debug("bridge: inbound relay ended", metadata: ["rule": "\(rule)", "error": "\(error)"])
        }
    }

    /// The first rule that carries a bus topic out, with the MQTT topic.
    func route(outbound topic: String) -> (Int, BridgeRule, String)? {
        for (index, rule) in rules.enumerated() {
            if let mqttTopic = rule.mqttTopic(forBusTopic: topic) { return (index, rule, mqttTopic) }
        }
        return nil
    }
}
