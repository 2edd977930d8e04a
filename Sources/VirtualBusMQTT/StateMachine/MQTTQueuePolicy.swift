/// What happens when a bounded queue is full.
///
/// A struct with static members rather than an enum so that adding a policy breaks no caller.
public struct MQTTQueuePolicy: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Hashable {
        case failFast
        case dropOldest
        case dropNewest
        case wait(Duration)
    }

    let kind: Kind

    /// Reject the new message at once with ``MQTTError/Code/queueFull``.
    public static let failFast = MQTTQueuePolicy(kind: .failFast)
    /// Accept the new message and fail the oldest queued one with ``MQTTError/Code/droppedByPolicy``.
    public static let dropOldest = MQTTQueuePolicy(kind: .dropOldest)
    /// Fail the new message with ``MQTTError/Code/droppedByPolicy`` and keep the queue as it is.
    public static let dropNewest = MQTTQueuePolicy(kind: .dropNewest)
    /// Suspend the caller until there is room, for at most `timeout`, then fail with
    /// ``MQTTError/Code/timeout``. Non-waiting calls (`tryPublish`) fail fast under this policy.
    public static func wait(timeout: Duration) -> MQTTQueuePolicy { MQTTQueuePolicy(kind: .wait(timeout)) }

    /// The policy's name.
    public var description: String {
        switch kind {
        case .failFast: "failFast"
        case .dropOldest: "dropOldest"
        case .dropNewest: "dropNewest"
        case .wait(let d): "wait(\(d))"
        }
    }
}
