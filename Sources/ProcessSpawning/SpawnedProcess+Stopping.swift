#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SpawnedProcess {
    /// Stops the child: SIGTERM, so that a server can save its state on the way out, then SIGKILL
    /// if it still runs after `grace` (at once for `.zero`); returns once it is reaped. Blocking:
    /// from a thread of its own or a synchronous path. Idempotent.
    package func stop(grace: Duration) {
        if grace > .zero {
            send(SIGTERM)
            let deadline = ContinuousClock.now + grace
            // A bounded wait for the exit: only waitpid tells of it, and a blocking waitpid has no timeout.
            while isRunning && ContinuousClock.now < deadline { usleep(2_000) }
        }
        send(SIGKILL)
        waitForExit()
    }
}
