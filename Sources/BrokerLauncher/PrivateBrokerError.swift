/// Why a private broker could not be started, restarted or given a port; the message carries
/// mosquitto's own words (its exit status, the tail of its log) where there are any.
package struct PrivateBrokerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for a person to read.
    package var message: String

    /// An error with `message`.
    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
