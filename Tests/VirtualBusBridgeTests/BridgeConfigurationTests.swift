import Testing
import VirtualBusBridge

@Suite("Bridge YAML configuration: the same rules as the flags, clear errors")
struct BridgeConfigurationTests {
    @Test("a full configuration parses into rules")
    func parses() throws {
        let file = try BridgeConfigurationFile(
            yaml: """
                broker: mqtt://127.0.0.1:1883
                mqttVersion: "3.1.1"
                qos: 2
                frontend: [tcp://127.0.0.1:5555]
                rules:
                  - direction: out
                    filter: sensors/#
                    remotePrefix: site1/
                    retain: always
                  - direction: in
                    filter: cmd/#
                    qos: 0
                    deny: [cmd/secret/#]
                """)
        #expect(file.broker == "mqtt://127.0.0.1:1883")
        #expect(file.mqttVersion == "3.1.1")
        #expect(file.frontend == ["tcp://127.0.0.1:5555"])
        #expect(file.rules.count == 2)
        #expect(file.rules[0].direction == .out && file.rules[0].qos == .exactlyOnce && file.rules[0].retain == .always)
        #expect(file.rules[0].mqttTopic(forBusTopic: "sensors/a") == "site1/sensors/a")
        #expect(file.rules[1].qos == .atMostOnce)
        #expect(file.rules[1].busTopic(forMQTTTopic: "cmd/secret/x") == nil)
    }

    @Test(
        "bad configurations fail with an error naming the problem",
        arguments: [
            ("rules: [{direction: out, filter: a, colour: red}]", "unknown key 'colour' in rule 1"),
            ("brokr: x\nrules: [{direction: out, filter: a}]", "unknown key 'brokr'"),
            ("rules: [{direction: sideways, filter: a}]", "rule 1.direction"),
            ("rules: [{direction: out, filter: a/#/b}]", "rule 1:"),
            ("rules: [{direction: out, filter: a, qos: 3}]", "QoS must be 0, 1 or 2"),
            ("rules: []", "non-empty list"),
            ("mqttVersion: \"4\"\nrules: [{direction: out, filter: a}]", "mqttVersion"),
            ("rules: [{direction: out}]", "needs 'direction' and 'filter'"),
            ("- just a list", "must be a mapping"),
        ])
    func badConfigurations(yaml: String, expected: String) {
        #expect { try BridgeConfigurationFile(yaml: yaml) } throws: { error in
            guard let error = error as? BridgeError, error.code == .invalidConfiguration || error.code == .invalidRule
            else { return false }
            return error.message.contains(expected)
        }
    }
}
