/// An MQTT topic filter (`+`, `#`) as the bridge uses it on both sides.
///
/// A bus subscription is a byte prefix; an MQTT filter has wildcards. The bridge subscribes on the
/// bus to ``busPrefix`` — the widest prefix that can never miss a match — and then checks each
/// message exactly with ``matches(_:)``. Rules of [MQTT-4.7]:
/// - `+` matches exactly one level, which may be empty; `#` matches any number of levels,
///   including none: `sport/#` matches `sport` itself, so its bus prefix is `sport`, not `sport/`.
/// - Empty levels are levels: `a//b` has three.
/// - A filter that starts with a wildcard does not match topics that start with `$` [MQTT-4.7.2-1].
public struct TopicPattern: Sendable, Hashable, CustomStringConvertible {
    /// The filter text.
    public let filter: String
    private let levels: [Substring]

    /// Parses and validates a filter: `#` only as the last level, wildcards only as whole levels.
    public init(_ filter: String) throws(BridgeError) {
        guard !filter.isEmpty else { throw BridgeError(.invalidRule, "an MQTT topic filter must not be empty [MQTT-4.7.3-1]") }
        guard !filter.contains("\u{0}") else { throw BridgeError(.invalidRule, "topic filter contains a NUL character [MQTT-4.7.3-2]") }
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || index != levels.count - 1) {
                throw BridgeError(.invalidRule, "'#' must be a whole level and the last one in '\(filter)' [MQTT-4.7.1-2]")
            }
            if level.contains("+") && level != "+" {
                throw BridgeError(.invalidRule, "'+' must be a whole level in '\(filter)' [MQTT-4.7.1-3]")
            }
        }
        self.filter = filter
        self.levels = levels
    }

    /// Whether the filter has no wildcard (it names exactly one topic).
    public var isExact: Bool { !levels.contains { $0 == "+" || $0 == "#" } }

    /// The widest bus prefix that every matching topic starts with: the literal levels before the
    /// first wildcard, with their separator except before a final `#` (which also matches its parent).
    public var busPrefix: String {
        guard let wildcard = levels.firstIndex(where: { $0 == "+" || $0 == "#" }) else { return filter }
        let literal = levels[..<wildcard].joined(separator: "/")
        if wildcard == 0 { return "" }
        return levels[wildcard] == "#" ? literal : literal + "/"
    }

    /// Whether `topic` matches the filter.
    public func matches(_ topic: String) -> Bool {
        if topic.hasPrefix("$") && (levels.first == "+" || levels.first == "#") { return false }
        var topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)[...]
        for level in levels {
            if level == "#" { return true }
            guard let next = topicLevels.popFirst() else { return false }
            if level != "+" && level != next { return false }
        }
        return topicLevels.isEmpty
    }

    public var description: String { filter }
}
