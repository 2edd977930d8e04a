import VirtualBusMQTT
import Yams

/// The bridge's YAML configuration (`vbus bridge --config FILE`): the broker and the rules.
///
/// ```yaml
/// broker: mqtt://127.0.0.1:1883      # omit for a private mosquitto
/// mqttVersion: "5"                   # or "3.1.1"
/// username: gateway                  # optional, with passwordFile
/// passwordFile: /etc/vbus/password
/// tlsCA: /etc/vbus/ca.pem            # optional: TLS with this CA
/// qos: 1                             # default QoS of the rules
/// frontend: [tcp://127.0.0.1:5555]   # optional bus endpoints for other processes
/// backend: [tcp://127.0.0.1:5556]
/// rules:
///   - direction: out                 # out | in | both
///     filter: sensors/#
///     remotePrefix: site1/
///     retain: never                  # never | always
///   - direction: in
///     filter: cmd/#
///     localPrefix: ""
///     qos: 2
///     deny: [cmd/secret/#]
/// ```
///
/// Unknown keys, wrong types and invalid filters are errors that name the key (and the rule).
public struct BridgeConfigurationFile: Sendable {
    public var broker: String?
    public var mqttVersion: String = "5"
    public var username: String?
    public var passwordFile: String?
    public var tlsCA: String?
    public var frontend: [String] = []
    public var backend: [String] = []
    public var rules: [BridgeRule] = []

    private static let topKeys: Set<String> = [
        "broker", "mqttVersion", "username", "passwordFile", "tlsCA", "qos", "frontend", "backend", "rules",
    ]
    private static let ruleKeys: Set<String> = [
        "direction", "filter", "localPrefix", "remotePrefix", "qos", "retain", "allow", "deny",
    ]

    /// Parses YAML text.
    public init(yaml: String) throws(BridgeError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw BridgeError(.invalidConfiguration, "not valid YAML: \(error)")
        }
        guard let root, let top = root.mapping else {
            throw BridgeError(.invalidConfiguration, "the configuration must be a mapping of keys (broker, rules, ...)")
        }
        let fields = try Self.fields(of: top, allowed: Self.topKeys, at: "configuration")
        broker = try fields["broker"].map { node throws(BridgeError) in try Self.string(node, "broker") }
        mqttVersion =
            try fields["mqttVersion"].map { node throws(BridgeError) in try Self.string(node, "mqttVersion") } ?? "5"
        guard ["5", "3.1.1"].contains(mqttVersion) else {
            throw BridgeError(.invalidConfiguration, "mqttVersion must be \"5\" or \"3.1.1\", got \"\(mqttVersion)\"")
        }
        username = try fields["username"].map { node throws(BridgeError) in try Self.string(node, "username") }
        passwordFile = try fields["passwordFile"].map { node throws(BridgeError) in
            try Self.string(node, "passwordFile")
        }
        tlsCA = try fields["tlsCA"].map { node throws(BridgeError) in try Self.string(node, "tlsCA") }
        frontend = try fields["frontend"].map { node throws(BridgeError) in try Self.strings(node, "frontend") } ?? []
        backend = try fields["backend"].map { node throws(BridgeError) in try Self.strings(node, "backend") } ?? []
        let defaultQoS = try fields["qos"].map { node throws(BridgeError) in try Self.qos(node, "qos") } ?? .atLeastOnce
        guard let ruleNodes = fields["rules"]?.sequence, !ruleNodes.isEmpty else {
            throw BridgeError(.invalidConfiguration, "'rules' must be a non-empty list")
        }
        for (index, node) in ruleNodes.enumerated() {
            rules.append(try Self.rule(node, number: index + 1, defaultQoS: defaultQoS))
        }
    }

    private static func rule(_ node: Node, number: Int, defaultQoS: MQTTQoS) throws(BridgeError) -> BridgeRule {
        let place = "rule \(number)"
        guard let mapping = node.mapping else { throw BridgeError(.invalidConfiguration, "\(place) must be a mapping") }
        let fields = try self.fields(of: mapping, allowed: ruleKeys, at: place)
        guard let directionNode = fields["direction"], let filterNode = fields["filter"] else {
            throw BridgeError(.invalidConfiguration, "\(place) needs 'direction' and 'filter'")
        }
        let directionText = try string(directionNode, "\(place).direction")
        guard let direction = BridgeRule.Direction(rawValue: directionText) else {
            throw BridgeError(
                .invalidConfiguration, "\(place).direction must be out, in or both, got '\(directionText)'")
        }
        let retainText =
            try fields["retain"].map { node throws(BridgeError) in try string(node, "\(place).retain") } ?? "never"
        guard let retain = BridgeRule.Retain(rawValue: retainText) else {
            throw BridgeError(.invalidConfiguration, "\(place).retain must be never or always, got '\(retainText)'")
        }
        do {
            return try BridgeRule(
                direction, try string(filterNode, "\(place).filter"),
                localPrefix: try fields["localPrefix"].map { node throws(BridgeError) in
                    try string(node, "\(place).localPrefix")
                } ?? "",
                remotePrefix: try fields["remotePrefix"].map { node throws(BridgeError) in
                    try string(node, "\(place).remotePrefix")
                } ?? "",
                qos: try fields["qos"].map { node throws(BridgeError) in try qos(node, "\(place).qos") } ?? defaultQoS,
                retain: retain,
                allow: try fields["allow"].map { node throws(BridgeError) in try strings(node, "\(place).allow") }
                    ?? [],
                deny: try fields["deny"].map { node throws(BridgeError) in try strings(node, "\(place).deny") } ?? []
            )
        } catch {
            throw BridgeError(error.code, "\(place): \(error.message)")
        }
    }

    private static func fields(of mapping: Node.Mapping, allowed: Set<String>, at place: String) throws(BridgeError)
        -> [String: Node]
    {
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else {
                throw BridgeError(.invalidConfiguration, "\(place) has a key that is not text")
            }
            guard allowed.contains(name) else {
                throw BridgeError(
                    .invalidConfiguration,
                    "unknown key '\(name)' in \(place) (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            fields[name] = value
        }
        return fields
    }

    private static func string(_ node: Node, _ place: String) throws(BridgeError) -> String {
        guard let scalar = node.scalar else { throw BridgeError(.invalidConfiguration, "'\(place)' must be text") }
        return scalar.string
    }

    private static func qos(_ node: Node, _ place: String) throws(BridgeError) -> MQTTQoS {
        guard let value = node.int else {
            throw BridgeError(.invalidConfiguration, "'\(place)' must be a whole number")
        }
        guard let qos = UInt8(exactly: value).flatMap(MQTTQoS.init(rawValue:)) else {
            throw BridgeError(.invalidConfiguration, "'\(place)': QoS must be 0, 1 or 2, got \(value)")
        }
        return qos
    }

    private static func strings(_ node: Node, _ place: String) throws(BridgeError) -> [String] {
        guard let sequence = node.sequence else {
            throw BridgeError(.invalidConfiguration, "'\(place)' must be a list")
        }
        return try sequence.map { item throws(BridgeError) in try string(item, place) }
    }
}
