#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex: the lock of the MQTT client and the bridge, and the one box
/// that carries a value between threads and closures (a `Mutex` is `~Copyable` and cannot be
/// captured).
///
/// Not `Synchronization.Mutex`, for one reason: ThreadSanitizer. On Linux a contended `Mutex`
/// hands the lock over through a priority-inheritance futex in the kernel, which TSan cannot
/// follow, so every access inside a contended `withLock` was reported as a race and the sanitizer
/// run could not judge this code at all (docs/shutdown-correctness.md). A pthread mutex is
/// intercepted by TSan, so its reports here are real.
package final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `protected` is read and written only inside `withLock`, with `mutex` held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var protected: Value

    package init(_ value: Value) {
        protected = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    package func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure)
        -> Result
    {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&protected)
    }

    /// The value, read or replaced under the lock (one access each: read-modify-write goes
    /// through ``withLock(_:)``).
    package var value: Value {
        get { withLock { $0 } }
        set { withLock { $0 = newValue } }
    }
}
