import BrokerLauncher
import Dispatch
import Foundation
import Synchronization
import VirtualBusBridge

/// The private mosquitto a benchmark starts. The benchmark stops it when it returns or throws;
/// an interrupt (SIGINT, SIGTERM) ends the process without unwinding, so the handlers installed
/// here stop it then, instead of leaving it listening after the command is gone.
enum BenchBroker {
    private static let running = Mutex<[ObjectIdentifier: PrivateBroker]>([:])
    /// Kept for the life of the process: a released signal source stops delivering.
    private static let signalSources = Mutex<[any DispatchSourceSignal]>([])

    /// Starts a broker (see ``PrivateBroker/started(extraConfiguration:persistence:timeout:)``)
    /// that an interrupt stops.
    static func started(extraConfiguration: String = "", persistence: Bool = false) async throws -> PrivateBroker {
        installHandlers()
        let broker = try await PrivateBroker.started(extraConfiguration: extraConfiguration, persistence: persistence)
        running.withLock { $0[ObjectIdentifier(broker)] = broker }
        return broker
    }

    /// Stops a broker from ``started(extraConfiguration:persistence:)``. Idempotent.
    static func stop(_ broker: PrivateBroker) {
        _ = running.withLock { $0.removeValue(forKey: ObjectIdentifier(broker)) }
        broker.stop()
    }

    private static func installHandlers() {
        signalSources.withLock { sources in
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)  // delivered to the source instead
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    for broker in running.withLock({ Array($0.values) }) { broker.stop() }
                    exit(128 + signalNumber)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
