import Testing
@testable import VirtualBusMQTT

@Suite("Topic names and filters")
struct TopicTests {
    @Test(
        "invalid topic names are rejected at construction",
        arguments: ["", "a/+", "#", "a/#/b", "a\u{0}b"])
    func invalidTopics(_ name: String) {
        #expect(throws: MQTTError.self) { try MQTTTopic(name) }
    }

    @Test("valid topic names", arguments: ["a", "/", "a//b", "$SYS/x", "ü/☃"])
    func validTopics(_ name: String) throws {
        #expect(try MQTTTopic(name).name == name)
    }

    @Test("topic length limit is 65,535 bytes [MQTT-4.7.3-3]")
    func lengthLimit() throws {
        #expect(try MQTTTopic(String(repeating: "x", count: 65_535)).name.utf8.count == 65_535)
        #expect(throws: MQTTError.self) { try MQTTTopic(String(repeating: "x", count: 65_536)) }
        #expect(throws: MQTTError.self) { try MQTTTopicFilter(String(repeating: "x", count: 65_536)) }
    }

    @Test(
        "invalid filters: [MQTT-4.7.1-1] '#' last, [MQTT-4.7.1-2] '+' whole level, [MQTT-4.7.3-1] non-empty",
        arguments: [
            "", "a/#/b", "a#", "#a", "a/b#", "a+", "+a/b", "a/+b", "$share/g", "$share//x", "$share/g+/x", "x\u{0}",
        ])
    func invalidFilters(_ filter: String) {
        #expect(throws: MQTTError.self) { try MQTTTopicFilter(filter) }
    }

    @Test("valid filters", arguments: ["#", "+", "a/#", "+/+", "a/+/c", "/+", "$share/g/a/#", "a//b"])
    func validFilters(_ filter: String) throws {
        #expect(try MQTTTopicFilter(filter).filter == filter)
    }

    @Test("matching rules [MQTT-4.7]")
    func matching() throws {
        let table: [(String, String, Bool)] = [
            ("a/b/c", "a/b/c", true), ("a/+/c", "a/b/c", true), ("a/+/c", "a/b/d", false), ("a/#", "a", true),
            ("a/#", "a/b/c", true), ("#", "a/b", true), ("+", "a/b", false), ("+/+", "/a", true), ("a/+", "a/", true),
            ("#", "$SYS/x", false), ("+/x", "$SYS/x", false), ("$SYS/#", "$SYS/x", true), ("$share/g/a/+", "a/b", true),
            ("a/b", "a/b/c", false), ("a/b/c", "a/b", false),
        ]
        for (filter, topic, expected) in table {
            #expect(try MQTTTopicFilter(filter).matches(MQTTTopic(topic)) == expected, "\(filter) vs \(topic)")
        }
    }
}
