import BrokerLauncher
import ConcurrencyPrimitives

#if canImport(Glibc)
import Glibc
#endif

/// The private `mosquitto` the bridge scenarios share: started on first use, once per run (a test
/// or a `vbus-bench stress` process), not once per iteration. Each iteration uses topics of its own, so
/// iterations cannot see each other's messages.
///
/// The owner must call ``stop()`` at the end of the run: a child process outlives a value that is
/// never released (a static, for instance).
public final class BridgeBroker: Sendable {
    private let broker = Locked<PrivateBroker?>(nil)

    /// A holder with no broker yet.
    public init() {}

    /// The broker's loopback port, starting the broker if this is the first use. Starting it polls
    /// the port until mosquitto accepts connections, so it runs on a thread of its own.
    func port() async throws(PrivateBrokerError) -> Int {
        let broker = self.broker
        let started = await ThreadWork<Result<Int, PrivateBrokerError>>(name: "suite-broker") {
            // mosquitto inherits this thread's signal mask, and threads of the test runner and of
            // service-lifecycle block SIGTERM: a mosquitto started with it blocked ignores the
            // SIGTERM of PrivateBroker.stop() and is SIGKILLed a second later. Unblock everything
            // on this short-lived thread so stopping the broker takes milliseconds.
            #if canImport(Glibc)
            var unblocked = sigset_t()
            sigemptyset(&unblocked)
            pthread_sigmask(SIG_SETMASK, &unblocked, nil)
            #endif
            return broker.withLock { broker in
                if let running = broker { return .success(running.port) }
                do throws(PrivateBrokerError) {
                    let started = try PrivateBroker()
                    broker = started
                    return .success(started.port)
                } catch {
                    return .failure(error)
                }
            }
        }.value(before: .now + .seconds(60))
        guard let started else { throw PrivateBrokerError("mosquitto did not start within 60 s") }
        return try started.get()
    }

    /// Stops the broker, if it was started. Idempotent.
    ///
    /// Stopping waits for mosquitto to exit, so it runs on a thread of its own. That also keeps
    /// Foundation's `Process.waitUntilExit` off the cooperative pool: it leaves a weak reference
    /// in the calling thread's run loop, which LeakSanitizer reports (32 bytes) when that thread
    /// lives as long as the process; a dedicated thread's run loop goes with the thread.
    public func stop() async {
        let running = broker.withLock { broker in
            defer { broker = nil }
            return broker
        }
        guard let running else { return }
        _ = await ThreadWork<Void>(name: "suite-broker-stop") { running.stop() }.value(before: .now + .seconds(10))
    }
}
