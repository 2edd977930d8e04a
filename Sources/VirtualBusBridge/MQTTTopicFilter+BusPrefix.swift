public import VirtualBusMQTT

extension MQTTTopicFilter {
    /// The widest bus prefix that every topic this filter matches starts with.
    ///
    /// A bus subscription is a byte prefix, an MQTT filter has wildcards: the bridge subscribes on
    /// the bus to this prefix, which can never miss a match, and checks each message exactly. It is
    /// the literal levels before the first wildcard with their `/`, except before a final `#`,
    /// which also matches its parent level (`sport/#` matches `sport` [MQTT-4.7.1-1]), so there the
    /// `/` is left out. A filter that starts with a wildcard gets the empty prefix (everything).
    public var busPrefix: String {
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        guard let wildcard = levels.firstIndex(where: { $0 == "+" || $0 == "#" }) else { return filter }
        if wildcard == 0 { return "" }
        let literal = levels[..<wildcard].joined(separator: "/")
        return levels[wildcard] == "#" ? literal : literal + "/"
    }
}
