import ConcurrencyPrimitives
import Foundation
import ProcessSpawning

#if canImport(Glibc)
import Glibc
#endif

/// A private `mosquitto` on a free loopback port, for the demo and `vbus bridge` without
/// `--broker`, the benchmarks and the tests. Package-internal: a tool of this repository's
/// programs, not part of the libraries' API. It is stopped when ``stop()`` is called or the value goes away.
///
/// Readiness is detected by finding mosquitto's own listening socket, never by sleeping.
package final class PrivateBroker: Sendable {
    /// Where mosquitto is looked for, in order.
    package static let candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]

    /// The loopback port it listens on (the same across ``restart()``).
    package let port: Int
    /// The broker as a URL, `mqtt://127.0.0.1:PORT`.
    package var url: String { "mqtt://127.0.0.1:\(port)" }
    private let executable: String
    private let directory: URL
    private let timeout: Duration
    private let process = Locked<SpawnedProcess?>(nil)

    /// Starts mosquitto with anonymous access on 127.0.0.1 and waits until it listens.
    ///
    /// - Parameters:
    ///   - extraConfiguration: lines appended to the generated config (later lines win), e.g.
    ///     `set_tcp_nodelay true` for benchmarks.
    ///   - persistence: keep sessions and queued messages in the broker's private directory, saved
    ///     on every change, so that they survive ``restart()``.
    package init(extraConfiguration: String = "", persistence: Bool = false, timeout: Duration = .seconds(10))
        throws(PrivateBrokerError)
    {
        guard let executable = Self.candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw PrivateBrokerError(
                """
                mosquitto not found (looked in \(Self.candidates.joined(separator: ", "))): install the mosquitto \
                package
                """
            )
        }
        self.executable = executable
        self.timeout = timeout
        // The port was free when probed, but another program can bind it before mosquitto does
        // (mosquitto then exits): a few fresh ports before giving up.
        var failure = PrivateBrokerError("mosquitto did not start")
        for _ in 0..<3 {
            let candidate = try BrokerPort.free()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "vbus-broker-\(getpid())-\(candidate)")
            try Self.writeConfiguration(
                port: candidate, directory: directory, persistence: persistence, extra: extraConfiguration)
            do {
                let started = try Self.spawn(executable, in: directory, port: candidate, timeout: timeout)
                port = candidate
                self.directory = directory
                process.withLock { $0 = started }
                return
            } catch {
                failure = error
                try? FileManager.default.removeItem(at: directory)
            }
        }
        throw failure
    }

    /// Starts mosquitto like ``init(extraConfiguration:persistence:timeout:)``, from async code:
    /// waiting until the broker listens (up to `timeout`, for each of up to three ports) happens
    /// on a thread of its own, so it never holds one of Swift's cooperative threads, which on a
    /// small machine the rest of the program needs meanwhile.
    package static func started(
        extraConfiguration: String = "", persistence: Bool = false,
        timeout: Duration = .seconds(10)
    ) async throws(PrivateBrokerError) -> PrivateBroker {
        // Three ports at most, each bounded by `timeout`.
        try await onThreadOfItsOwn("vbus-broker-start", bound: timeout * 3) { () throws(PrivateBrokerError) in
            try PrivateBroker(extraConfiguration: extraConfiguration, persistence: persistence, timeout: timeout)
        }
    }

    /// Runs `body`, which waits for mosquitto, on a thread of its own, so that waiting never holds
    /// one of Swift's cooperative threads. `bound` is the longest `body` can take by its own
    /// timeouts; the wait here only outlasts it.
    private static func onThreadOfItsOwn<Value: Sendable>(
        _ name: String, bound: Duration, _ body: @escaping @Sendable () throws(PrivateBrokerError) -> Value
    ) async throws(PrivateBrokerError) -> Value {
        let result = await ThreadWork(name: name) {
            Result { () throws(PrivateBrokerError) in try body() }
        }.value(before: .now + bound + .seconds(10))
        guard let result else { throw PrivateBrokerError("mosquitto did not start within \(bound)") }
        return try result.get()
    }

    private static func writeConfiguration(port: Int, directory: URL, persistence: Bool, extra: String)
        throws(PrivateBrokerError)
    {
        var configuration = """
            listener \(port) 127.0.0.1
            allow_anonymous true
            max_queued_messages 100000
            log_type error
            log_dest file \(logFile(in: directory).path)
            """
        if persistence {
            // Saved after every change: a killed broker loses nothing it acknowledged.
            // max_inflight_messages: mosquitto 2.0.11 restores at most this many of a client's
            // in-flight messages with their state and re-queues the rest as new PUBLISHes, even
            // QoS 2 ones it had already released (PUBREL): duplicates no client can detect, since
            // their packet identifiers were free again. With the default (20) a subscriber that
            // is a little behind at shutdown gets some; 1,000 covers any window we keep.
            configuration +=
                """
                \nmax_inflight_messages 1000\npersistence true\npersistence_location \
                \(directory.path)/\nautosave_on_changes true\nautosave_interval 1
                """
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // mosquitto started as root drops to its own user, which must be able to write here.
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.path)
            try (configuration + "\n\(extra)\n").write(
                to: configurationFile(in: directory), atomically: true, encoding: .utf8)
        } catch {
            throw PrivateBrokerError("cannot write the mosquitto configuration: \(error)")
        }
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func configurationFile(in directory: URL) -> URL {
        directory.appendingPathComponent("mosquitto.conf")
    }

    /// mosquitto's errors: a file, not a pipe, which a long-lived broker could fill and block on.
    private static func logFile(in directory: URL) -> URL { directory.appendingPathComponent("mosquitto.log") }

    /// The end of mosquitto's error log, for failure messages ("Address already in use", a bad
    /// configuration line).
    private static func logTail(in directory: URL) -> String {
        guard let log = try? String(contentsOf: logFile(in: directory), encoding: .utf8), !log.isEmpty else {
            // mosquitto opens its log only after reading its configuration.
            return " (it wrote no log: it stopped before opening one, as it does when \(directory.path) or its "
                + "configuration cannot be read)"
        }
        return ": " + log.suffix(1_000).split(separator: "\n").joined(separator: "; ")
    }

    /// Starts mosquitto on the broker's port, trying again while the port is briefly taken.
    ///
    /// While the broker is down, its port is free. It lies below the ephemeral range
    /// (``BrokerPort``), so no client is handed it as a source port and no port-0 bind takes it,
    /// but a program choosing that very port can: mosquitto then exits with "Address already in
    /// use", and a few more tries find out whether the port comes free again.
    private func launch() throws(PrivateBrokerError) {
        let deadline = ContinuousClock.now + timeout
        var attempt = 1
        while true {
            do throws(PrivateBrokerError) {
                let started = try Self.spawn(executable, in: directory, port: port, timeout: timeout)
                process.withLock { $0 = started }
                return
            } catch  where error.message.contains("in use") && attempt < 5 && ContinuousClock.now < deadline {
                attempt += 1
                usleep(50_000)  // a pause before the next try, not synchronisation
            }
        }
    }

    /// Starts mosquitto and waits until it listens on `port` itself: a port that merely accepts
    /// connections may belong to another program that took it first (see
    /// `SpawnedProcess.isListening(onPort:)`).
    private static func spawn(_ executable: String, in directory: URL, port: Int, timeout: Duration)
        throws(PrivateBrokerError) -> SpawnedProcess
    {
        // posix_spawn, not Foundation's Process: see SpawnedProcess for why.
        let started: SpawnedProcess
        try? FileManager.default.removeItem(at: logFile(in: directory))  // this start's errors only
        do {
            started = try SpawnedProcess(
                executable: executable, arguments: ["-c", configurationFile(in: directory).path], captureOutput: false)
        } catch {
            throw PrivateBrokerError("cannot start mosquitto: \(error)")
        }
        let outcome = started.waitUntilListening(onPort: port, timeout: timeout)
        guard outcome == .listening else {
            started.send(SIGKILL)
            let status = started.waitForExit()
            let what =
                outcome == .timedOut
                ? "did not listen on 127.0.0.1:\(port) within \(timeout)"
                : """
                exited (status \(status)\(status > 128 ? ", signal \(status - 128)" : "")) before listening \
                on 127.0.0.1:\(port)
                """
            throw PrivateBrokerError("mosquitto \(what)\(logTail(in: directory))")
        }
        return started
    }

    /// The running mosquitto's process ID (nil while it is stopped), e.g. for measuring its CPU.
    package var processID: Int32? { process.withLock { $0?.pid } }

    /// Stops the broker and removes its files. Idempotent.
    package func stop() {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Stops the broker (see ``kill(graceful:)``) and starts it again on the same port with the same
    /// configuration; with `persistence`, sessions and queued messages survive.
    /// Stopping and waiting for the new broker happen on a thread of their own.
    package func restart(graceful: Bool = true) async throws(PrivateBrokerError) {
        try await Self.onThreadOfItsOwn("vbus-broker-restart", bound: timeout + .seconds(5)) {
            () throws(PrivateBrokerError) in
            self.kill(graceful: graceful)
            try self.launch()
        }
    }

    /// Stops the broker without removing its files (the first half of ``restart()``, for tests
    /// that need the broker down for a while). Idempotent.
    ///
    /// - Parameter graceful: SIGTERM, so that mosquitto saves its state on the way out (SIGKILL after
    ///   five seconds if it is still running); otherwise SIGKILL at once, an outage in which the broker
    ///   loses what it had not saved yet.
    package func kill(graceful: Bool = false) {
        guard
            let running = process.withLock({ process in
                defer { process = nil }; return process
            })
        else { return }
        running.stop(grace: graceful ? .seconds(5) : .zero)
    }

    /// Starts the broker again after ``kill()``, on the same port, waiting on a thread of its own
    /// until it listens. Does nothing if it is running.
    package func start() async throws(PrivateBrokerError) {
        guard process.withLock({ $0 == nil }) else { return }
        try await Self.onThreadOfItsOwn("vbus-broker-start", bound: timeout) { () throws(PrivateBrokerError) in
            try self.launch()
        }
    }

    /// Suspends (SIGSTOP) or resumes (SIGCONT) the broker: connected but silent, as a hung broker
    /// is, for keep-alive tests.
    package func freeze(_ frozen: Bool) {
        process.withLock { $0 }?.send(frozen ? SIGSTOP : SIGCONT)
    }
}
