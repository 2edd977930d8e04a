import CThreadNaming
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An OS thread of its own, named, with an observable, awaitable exit.
///
/// Blocking calls (libzmq's `zmq_poll`, `zmq_proxy_steerable` and `zmq_ctx_term`, waiting for a
/// child process) run only on threads like this one, never on Swift's cooperative pool or a NIO
/// event loop, where a blocked thread starves every other task.
package final class DedicatedThread: Sendable {
    /// The name given at start (visible in debuggers and `/proc/<pid>/task/*/comm`).
    package let name: String
    /// Fires when the thread's body has returned.
    package let exited = OneShotEvent()
    private let thread = Mutex<pthread_t?>(nil)
    private let joined = Mutex(false)

    private init(name: String) {
        self.name = name
    }

    /// Starts a thread running `body`.
    package static func start(name: String, _ body: @escaping @Sendable () -> Void) -> DedicatedThread {
        let dedicatedThread = DedicatedThread(name: name)
        let box = Unmanaged.passRetained(ThreadStart(body: body, owner: dedicatedThread))
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { argument in
                let start = Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue()
                start.run()
                return nil
            }, box.toOpaque())
        precondition(result == 0, "pthread_create failed (\(result)): the process is out of threads")
        dedicatedThread.thread.withLock { $0 = handle }
        return dedicatedThread
    }

    /// Whether the caller is running on this thread.
    package var isCurrent: Bool {
        guard let handle = thread.withLock({ $0 }) else { return false }
        return pthread_equal(handle, pthread_self()) != 0
    }

    /// Waits until the body returned, then reaps the thread. Returns `false` if `deadline` passed first;
    /// the thread is then detached so it frees itself whenever it ends.
    package func waitForExit(until deadline: ContinuousClock.Instant) async -> Bool {
        let done = await exited.wait(until: deadline)
        reap(exited: done)
        return done
    }

    /// Blocking variant of ``waitForExit(until:)`` for synchronous paths.
    package func waitForExitBlocking(timeout: Duration) -> Bool {
        let done = exited.waitBlocking(timeout: timeout)
        reap(exited: done)
        return done
    }

    private func reap(exited done: Bool) {
        let alreadyReaped = joined.withLock { joined in
            defer { joined = true }
            return joined
        }
        guard !alreadyReaped, let handle = thread.withLock({ $0 }) else { return }
        // Joining ourselves would deadlock, and joining a thread that is still running would block
        // past the deadline: both are detached instead.
        if done && pthread_equal(handle, pthread_self()) == 0 {
            pthread_join(handle, nil)
        } else {
            pthread_detach(handle)
        }
    }

    deinit {
        if !joined.withLock({ $0 }), let handle = thread.withLock({ $0 }) {
            pthread_detach(handle)
        }
    }
}

/// What a new thread runs first: names itself, runs the body, then reports its exit.
private final class ThreadStart {
    let body: @Sendable () -> Void
    let owner: DedicatedThread

    init(body: @escaping @Sendable () -> Void, owner: DedicatedThread) {
        self.body = body
        self.owner = owner
    }

    func run() {
        // Linux limits thread names to 15 bytes.
        CThreadNaming_setCurrentThreadName(String(owner.name.utf8.prefix(15))!)
        body()
        owner.exited.fire()
    }
}
