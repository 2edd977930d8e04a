import Foundation
import Testing
import TestSupport
import VirtualBusBridge
import VirtualBusMQTT

@Suite("Topic mapping: MQTT filters to bus prefixes, checked against a reference matcher")
struct TopicMappingTests {
    @Test(
        "spec examples [MQTT-4.7.1]",
        arguments: [
            ("sport/tennis/player1/#", "sport/tennis/player1", true),
            ("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
            ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true),
            ("sport/#", "sport", true),
            ("sport/tennis/+", "sport/tennis/player1", true),
            ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true),
            ("+/+", "/finance", true),
            ("/+", "/finance", true),
            ("+", "/finance", false),
            ("#", "$SYS/broker", false),
            ("+/monitor/Clients", "$SYS/monitor/Clients", false),
            ("$SYS/#", "$SYS/broker", true),
            ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
            ("a//b", "a//b", true),
            ("a/+/b", "a//b", true),
        ])
    func specExamples(filter: String, topic: String, matches: Bool) throws {
        #expect(try MQTTTopicFilter(filter).matches(MQTTTopic(topic)) == matches)
    }

    @Test(
        "bus prefixes are the widest safe prefix",
        arguments: [
            ("sensors/+/temp", "sensors/"), ("sport/#", "sport"), ("#", ""), ("+/x", ""), ("a/b", "a/b"),
            ("a/b/+", "a/b/"),
        ])
    func busPrefixes(filter: String, prefix: String) throws {
        #expect(try MQTTTopicFilter(filter).busPrefix == prefix)
    }

    @Test(
        "invalid filters are refused by a rule with the rule of the spec they break",
        arguments: [
            ("", "[MQTT-4.7.3-1]"), ("a/#/b", "[MQTT-4.7.1-1]"), ("a/b#", "[MQTT-4.7.1-1]"), ("a+/b", "[MQTT-4.7.1-2]"),
            ("x\u{0}", "[MQTT-4.7.3-2]"),
            (String(repeating: "a", count: 65_536), "[MQTT-4.7.3-3]"), ("$share/group/a", "shared subscription"),
        ])
    func invalidFilters(filter: String, rule: String) {
        #expect { try BridgeRule(.out, filter) } throws: { error in
            (error as? BridgeError)?.code == .invalidRule && (error as? BridgeError)?.message.contains(rule) == true
        }
        #expect { try BridgeRule(.in, "a", deny: [filter]) } throws: { ($0 as? BridgeError)?.code == .invalidRule }
    }

    @Test("property: matching equals the reference matcher, and every match starts with the bus prefix (200,000 cases)")
    func propertyAgainstReference() throws {
        var random = SplitMix64(seed: 0x5EED_B0B)
        for _ in 0..<200_000 {
            let filter = random.filter()
            let topic = random.topic()
            let pattern = try MQTTTopicFilter(filter)
            let expected = ReferenceMatcher.matches(filter: filter, topic: topic)
            #expect(pattern.matches(topicName: topic) == expected, "filter '\(filter)' topic '\(topic)'")
            if expected {
                #expect(topic.hasPrefix(pattern.busPrefix), "bus prefix '\(pattern.busPrefix)' would miss '\(topic)'")
            }
        }
    }

    @Test("rules rewrite prefixes both ways and honour allow/deny lists")
    func ruleRewriting() throws {
        let rule = try BridgeRule(
            .both, "sensors/+/temp", localPrefix: "local/", remotePrefix: "site1/", deny: ["sensors/secret/#"])
        #expect(rule.busSubscriptionPrefix == "local/sensors/")
        #expect(rule.mqttSubscriptionFilter == "site1/sensors/+/temp")
        #expect(rule.mqttTopic(forBusTopic: "local/sensors/a/temp") == "site1/sensors/a/temp")
        #expect(rule.mqttTopic(forBusTopic: "local/sensors/a/humidity") == nil)
        #expect(rule.mqttTopic(forBusTopic: "local/sensors/secret/temp") == nil)
        #expect(rule.busTopic(forMQTTTopic: "site1/sensors/b/temp") == "local/sensors/b/temp")
        #expect(rule.busTopic(forMQTTTopic: "site2/sensors/b/temp") == nil)
        let outOnly = try BridgeRule(.out, "#")
        #expect(outOnly.busTopic(forMQTTTopic: "x") == nil)
        #expect(throws: BridgeError.self) { try BridgeRule(.out, "a", remotePrefix: "x/+/") }
    }
}

/// An independent matcher written straight from the spec's wording, level by level with recursion.
enum ReferenceMatcher {
    static func matches(filter: String, topic: String) -> Bool {
        let f = filter.components(separatedBy: "/"), t = topic.components(separatedBy: "/")
        if topic.first == "$", let first = f.first, first == "+" || first == "#" { return false }
        return match(f[...], t[...])
    }

    private static func match(_ f: ArraySlice<String>, _ t: ArraySlice<String>) -> Bool {
        guard let head = f.first else { return t.isEmpty }
        if head == "#" { return true }
        guard let topicHead = t.first else { return false }
        return (head == "+" || head == topicHead) && match(f.dropFirst(), t.dropFirst())
    }
}

/// Random topics and filters from the suite's seeded generator, so every failure reproduces.
extension SplitMix64 {
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    private static let words = ["a", "b", "", "$SYS", "x"]

    mutating func topic() -> String {
        (0...below(4)).map { _ in Self.words[below(Self.words.count)] }.joined(separator: "/")
    }

    /// A random valid filter (never the empty string, which MQTT forbids).
    mutating func filter() -> String {
        let count = 1 + below(4)
        let filter = (0..<count).map { index in
            switch below(6) {
            case 0: return "+"
            case 1 where index == count - 1: return "#"
            default: return Self.words[below(Self.words.count)]
            }
        }.joined(separator: "/")
        return filter.isEmpty ? "+" : filter
    }
}
