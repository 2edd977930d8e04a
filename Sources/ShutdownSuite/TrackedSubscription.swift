import Synchronization
public import VirtualBus

/// A subscription the suite watches: what its consumer saw (count, per-publisher order) and how many
/// matching messages were confirmed to have reached it before shutdown began.
public final class TrackedSubscription: Sendable {
    /// The bus subscription.
    public let subscription: BusSubscription
    /// Its prefixes.
    public let prefixes: [String]
    /// Whether the suite checks its accounting exactly (prefixes cover only topics the suite's
    /// tracked publishers use, and it existed before any of them published).
    public let isCounted: Bool
    let position: Int
    private let log = Mutex(ConsumerLog())

    struct ConsumerLog {
        var seen = 0
        var lastSequence: [Int: UInt64] = [:]
        var violations: [String] = []
        /// Matching messages confirmed to have reached the subscription at the last barrier.
        var confirmed = 0
    }

    init(subscription: BusSubscription, prefixes: [String], isCounted: Bool, position: Int) {
        self.subscription = subscription
        self.prefixes = prefixes
        self.isCounted = isCounted
        self.position = position
    }

    /// Records a message the consumer received: checks that each publisher's sequence numbers
    /// strictly increase (ZeroMQ keeps per-publisher order through the proxy; a repeat is a duplicate).
    public func observe(_ message: BusMessage) {
        log.withLock { log in
            log.seen += 1
            guard let (index, sequence) = TrackedPublisher.decode(Array(message.payload)) else { return }
            if let last = log.lastSequence[index], sequence <= last, log.violations.count < 5 {
                log.violations.append(
                    """
                    subscription \(position) saw publisher \(index) sequence \(sequence) after \(last) (duplicate \
                    or reordered)
                    """
                )
            }
            log.lastSequence[index] = sequence
        }
    }

    /// Whether `topic` matches one of the prefixes (byte-wise, as ZeroMQ matches).
    public func matches(_ topic: String) -> Bool {
        prefixes.isEmpty || prefixes.contains { topic.utf8.starts(with: $0.utf8) }
    }

    var seen: Int { log.withLock { $0.seen } }
    var violations: [String] { log.withLock { $0.violations } }
    var confirmed: Int {
        get { log.withLock { $0.confirmed } }
        set { log.withLock { $0.confirmed = newValue } }
    }

    /// Messages that reached the subscription's buffer so far (handed over, waiting, or dropped there).
    var reached: Int {
        let statistics = subscription.statistics
        return statistics.delivered + statistics.buffered + statistics.dropped
    }
}
