/// A validated MQTT topic filter: what a subscription matches ([MQTT-4.7]).
///
/// Validated at construction: non-empty ([MQTT-4.7.3-1]), `#` only as the whole last level
/// ([MQTT-4.7.1-1]), `+` only as a whole level ([MQTT-4.7.1-2]), no U+0000 ([MQTT-4.7.3-2]),
/// at most 65,535 bytes ([MQTT-4.7.3-3]). `$share/{name}/{filter}` shared subscriptions are
/// accepted when the share name has no wildcard or `/` ([MQTT-4.8.2-1], [MQTT-4.8.2-2]).
public struct MQTTTopicFilter: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The filter as a string.
    public let filter: String
    /// No wildcard and no shared-subscription prefix: matching is string equality.
    private let isExact: Bool

    /// Validates `filter` as a topic filter.
    /// - Throws: ``MQTTError`` with code ``MQTTError/Code/invalidTopic`` naming the rule broken.
    public init(_ filter: String) throws(MQTTError) {
        if let rule = MQTTTopicFilter.violation(filter) {
            throw MQTTError(.invalidTopic, "invalid topic filter: \(rule)")
        }
        self.filter = filter
        self.isExact = MQTTTopicFilter.exact(filter)
    }

    /// Creates a filter from a literal; an invalid literal is a programmer error.
    public init(stringLiteral value: String) {
        precondition(MQTTTopicFilter.violation(value) == nil, "invalid MQTT topic filter literal")
        self.filter = value
        self.isExact = MQTTTopicFilter.exact(value)
    }

    /// A filter matching exactly one topic.
    public init(_ topic: MQTTTopic) {
        self.filter = topic.name
        self.isExact = MQTTTopicFilter.exact(topic.name)
    }

    private static func exact(_ filter: String) -> Bool {
        !filter.hasPrefix("$share/") && !filter.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }
    }

    /// The filter string.
    public var description: String { filter }

    /// Whether the filter has a `+` or `#` level.
    public var hasWildcards: Bool { filter.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") } }

    /// The part that is matched against topics: without a `$share/{name}/` prefix.
    var matchPart: Substring {
        guard filter.hasPrefix("$share/") else { return filter[...] }
        let rest = filter.dropFirst(7)
        guard let slash = rest.firstIndex(of: "/") else { return rest }
        return rest[rest.index(after: slash)...]
    }

    /// Whether a message published to `topic` matches this filter ([MQTT-4.7]).
    ///
    /// Topics starting with `$` are not matched by a filter starting with a wildcard ([MQTT-4.7.2-1]).
    public func matches(_ topic: MQTTTopic) -> Bool { matches(topicName: topic.name) }

    /// ``matches(_:)`` on a name that is not validated as a topic: the bridge matches relative
    /// topics (what follows a rule's prefix), which may be empty.
    package func matches(topicName name: String) -> Bool {
        if isExact { return filter == name }
        let pattern = matchPart.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let levels = name.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if name.utf8.first == UInt8(ascii: "$"), let first = pattern.first,
            first.elementsEqual("+".utf8) || first.elementsEqual("#".utf8)
        {
            return false
        }
        var i = 0
        while i < pattern.count {
            let level = pattern[i]
            if level.elementsEqual("#".utf8) { return true }  // matches the parent and any children
            guard i < levels.count else { return false }
            if !level.elementsEqual("+".utf8) && !level.elementsEqual(levels[i]) { return false }
            i += 1
        }
        return i == levels.count
    }

    static func violation(_ filter: String) -> String? {
        if filter.isEmpty { return "empty [MQTT-4.7.3-1]" }
        if filter.utf8.count > 65_535 { return "longer than 65535 bytes [MQTT-4.7.3-3]" }
        if filter.utf8.contains(0) { return "contains U+0000 [MQTT-4.7.3-2]" }
        var body = filter[...]
        if filter.hasPrefix("$share/") {
            let rest = filter.dropFirst(7)
            guard let slash = rest.firstIndex(of: "/") else {
                return "shared subscription without a filter [MQTT-4.8.2-2]"
            }
            let share = rest[..<slash]
            if share.isEmpty || share.contains(where: { $0 == "+" || $0 == "#" }) {
                return "invalid share name [MQTT-4.8.2-1]"
            }
            body = rest[rest.index(after: slash)...]
            if body.isEmpty { return "shared subscription without a filter [MQTT-4.8.2-2]" }
        }
        let levels = body.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            let hasHash = level.contains(UInt8(ascii: "#"))
            let hasPlus = level.contains(UInt8(ascii: "+"))
            if hasHash && (level.count != 1 || index != levels.count - 1) {
                return "'#' must be the whole last level [MQTT-4.7.1-1]"
            }
            if hasPlus && level.count != 1 { return "'+' must be a whole level [MQTT-4.7.1-2]" }
        }
        return nil
    }
}
