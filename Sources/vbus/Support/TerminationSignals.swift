import Dispatch
import Foundation
import Synchronization

/// SIGINT/SIGTERM handling for commands that are not a ServiceGroup: the first signal runs an action
/// (an ordered shutdown), instead of killing the process mid-flight.
// @unchecked: `sources` is written once in init and only kept alive afterwards; `requested` is a Mutex.
final class TerminationSignals: @unchecked Sendable {
    private let requested = Flag()
    private var sources: [any DispatchSourceSignal] = []

    var isRequested: Bool { requested.isSet }

    private init(action: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [requested] in
                if requested.set() { action() }
            }
            source.resume()
            sources.append(source)
        }
    }

    static func install(_ action: @escaping @Sendable () -> Void) -> TerminationSignals {
        TerminationSignals(action: action)
    }
}

/// A flag set once.
private final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }

    /// Sets the flag; returns `true` for the call that set it first.
    func set() -> Bool {
        value.withLock { value in
            defer { value = true }
            return !value
        }
    }
}
