public import VirtualBusMQTT

/// One relay rule of the bridge, in the spirit of mosquitto's `topic PATTERN DIRECTION QOS LOCAL REMOTE`.
///
/// The pattern is relative: on the bus a topic is `localPrefix + X`, on MQTT it is
/// `remotePrefix + X`, for every `X` that matches ``pattern``. A message travels when its relative
/// topic matches the pattern, matches an allow filter (if any), and matches no deny filter.
public struct BridgeRule: Sendable, Hashable, CustomStringConvertible {
    /// Which way messages travel.
    public enum Direction: String, Sendable, Hashable, CaseIterable {
        /// Bus -> MQTT.
        case out
        /// MQTT -> bus.
        case `in`
        /// Both ways (never echoed back where they came from).
        case both

        var carriesOut: Bool { self != .in }
        var carriesIn: Bool { self != .out }
    }

    /// What happens to the retain flag on the way out (bus messages carry none).
    public enum Retain: String, Sendable, Hashable, CaseIterable {
        /// Publish to MQTT without retain.
        case never
        /// Publish to MQTT with retain (the broker keeps the last value per topic).
        case always
    }

    /// Which way the rule carries messages.
    public var direction: Direction
    /// The relative topic filter.
    public var pattern: MQTTTopicFilter
    /// Prefix of the topic on the bus.
    public var localPrefix: String
    /// Prefix of the topic on MQTT.
    public var remotePrefix: String
    /// The QoS of the rule's publishes out and of its subscription in.
    public var qos: MQTTQoS
    /// Retain handling on the way out.
    public var retain: Retain
    /// If not empty, only relative topics matching one of these travel.
    public var allow: [MQTTTopicFilter]
    /// Relative topics matching one of these never travel.
    public var deny: [MQTTTopicFilter]

    /// Creates a rule, validating its filters and prefixes.
    ///
    /// - Throws: ``BridgeError`` with code ``BridgeError/Code/invalidRule`` naming the problem: a
    ///   filter that breaks a rule of [MQTT-4.7], a shared subscription (`$share/...`, which has no
    ///   meaning relative to a prefix), or a prefix holding `+`, `#` or NUL.
    public init(
        _ direction: Direction, _ pattern: String,
        localPrefix: String = "", remotePrefix: String = "", qos: MQTTQoS = .atLeastOnce, retain: Retain = .never,
        allow: [String] = [], deny: [String] = []
    ) throws(BridgeError) {
        for prefix in [localPrefix, remotePrefix]
        where prefix.contains("+") || prefix.contains("#") || prefix.contains("\u{0}") {
            throw BridgeError(.invalidRule, "prefix '\(prefix)' of rule '\(pattern)' must not contain wildcards or NUL")
        }
        self.direction = direction
        self.pattern = try Self.relativeFilter(pattern)
        self.localPrefix = localPrefix
        self.remotePrefix = remotePrefix
        self.qos = qos
        self.retain = retain
        self.allow = try allow.map { filter throws(BridgeError) in try Self.relativeFilter(filter) }
        self.deny = try deny.map { filter throws(BridgeError) in try Self.relativeFilter(filter) }
        // The filter the broker sees is the prefixed one: it must be valid too (its length).
        do {
            _ = try MQTTTopicFilter(remotePrefix + pattern)
        } catch {
            throw BridgeError(.invalidRule, "'\(remotePrefix + pattern)': \(error.message)")
        }
    }

    private static func relativeFilter(_ filter: String) throws(BridgeError) -> MQTTTopicFilter {
        guard !filter.hasPrefix("$share/") else {
            throw BridgeError(.invalidRule, "'\(filter)': a shared subscription cannot be a bridge rule's filter")
        }
        do {
            return try MQTTTopicFilter(filter)
        } catch {
            throw BridgeError(.invalidRule, "'\(filter)': \(error.message)")
        }
    }

    /// The bus prefix to subscribe to for the outgoing direction.
    public var busSubscriptionPrefix: String { localPrefix + pattern.busPrefix }

    /// The MQTT filter to subscribe to for the incoming direction.
    public var mqttSubscriptionFilter: String { remotePrefix + pattern.filter }

    /// The MQTT topic for a bus topic, or `nil` when this rule does not carry it out.
    public func mqttTopic(forBusTopic topic: String) -> String? {
        guard direction.carriesOut, let relative = topic.dropping(prefix: localPrefix), admits(relative) else {
            return nil
        }
        return remotePrefix + relative
    }

    /// The bus topic for an MQTT topic, or `nil` when this rule does not carry it in.
    public func busTopic(forMQTTTopic topic: String) -> String? {
        guard direction.carriesIn, let relative = topic.dropping(prefix: remotePrefix), admits(relative) else {
            return nil
        }
        return localPrefix + relative
    }

    private func admits(_ relative: String) -> Bool {
        pattern.matches(topicName: relative)
            && (allow.isEmpty || allow.contains { $0.matches(topicName: relative) })
            && !deny.contains { $0.matches(topicName: relative) }
    }

    public var description: String {
        "\(direction.rawValue) \(pattern) qos=\(qos.rawValue) local='\(localPrefix)' remote='\(remotePrefix)'"
    }
}

extension String {
    func dropping(prefix: String) -> String? {
        guard hasPrefix(prefix) else { return nil }
        return String(dropFirst(prefix.count))
    }
}
