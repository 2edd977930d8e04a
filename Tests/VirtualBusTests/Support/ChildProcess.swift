import ConcurrencyPrimitives
import Foundation
import ProcessSpawning
import Synchronization
import Testing
import TestSupport

/// A program the tests start (the `vbus` CLI, a pyzmq peer), with its output lines as an async
/// stream and a bounded wait for its exit.
///
/// Started with `posix_spawn` (``SpawnedProcess``), not Foundation's `Process`, whose `run()`
/// crashes intermittently in a process with as many descriptors as a test runner has.
final class ChildProcess: Sendable {
    let process: SpawnedProcess
    let lines: AsyncStream<String>
    let errorLines: AsyncStream<String>
    private let name: String
    /// Every line of both streams as read, whoever consumes the streams (see ``transcript(within:)``).
    private let recorded = Locked<[String]>([])

    init(_ executable: String, _ arguments: [String], standardInput: String? = nil) throws {
        name = URL(fileURLWithPath: executable).lastPathComponent + " " + (arguments.first ?? "")
        process = try SpawnedProcess(
            executable: executable, arguments: arguments, standardInput: standardInput.map { Array($0.utf8) })
        // Readers own copies of the descriptors: the process's own close when it goes away, while a
        // reader thread may still be draining the last lines.
        lines = Self.lines(
            of: FileHandle(fileDescriptor: dup(process.standardOutput!), closeOnDealloc: true), recording: recorded)
        errorLines = Self.lines(
            of: FileHandle(fileDescriptor: dup(process.standardError!), closeOnDealloc: true), recording: recorded)
    }

    /// `vbus` as built next to the test bundle (`swift build --build-tests` builds it).
    static func vbus(_ arguments: [String], standardInput: String? = nil) throws -> ChildProcess {
        try built("vbus", arguments, standardInput: standardInput)
    }

    /// An executable of this package (`vbus`, `vbus-bench`, `BusDemo`), as built next to the test bundle.
    static func built(_ product: String, _ arguments: [String], standardInput: String? = nil) throws -> ChildProcess {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var path = directory.appendingPathComponent(product).path
        if !FileManager.default.fileExists(atPath: path) {
            // Some runners start the bundle from a helper; fall back to the build folder.
            path = FileManager.default.currentDirectoryPath + "/.build/debug/\(product)"
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ChildProcessFailure(
                description: "no \(product) executable at \(path) (run `swift build --build-tests` first)")
        }
        return try ChildProcess(path, arguments, standardInput: standardInput)
    }

    /// `python3 -c SCRIPT ARGS...`; fails clearly when pyzmq is missing.
    static func python(_ script: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    /// The first output line satisfying `predicate`, within `limit`.
    func firstLine(
        _ stream: KeyPath<ChildProcess, AsyncStream<String>> = \.lines, within limit: Duration = .seconds(20),
        where predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        let lines = self[keyPath: stream]
        let name = self.name
        return try await withDeadline(limit, "\(name): expected output line") {
            for await line in lines where predicate(line) { return line }
            throw ChildProcessFailure(description: "\(name) ended without the expected line")
        }
    }

    /// Everything the process wrote on standard output and standard error, once both have ended
    /// (within `limit`), lines already taken by ``firstLine(_:within:where:)`` included: for
    /// checking what a program must never print, such as a password.
    func transcript(within limit: Duration = .seconds(10)) async throws -> String {
        let (lines, errorLines) = (self.lines, self.errorLines)
        try await withDeadline(limit, "\(name): end of its output") {
            for await _ in lines {}
            for await _ in errorLines {}
        }
        return recorded.withLock { $0.joined(separator: "\n") }
    }

    /// Sends SIGTERM.
    func terminate() { process.send(SIGTERM) }

    /// Waits for the exit (bounded) and returns the status with the instant it happened, as seen
    /// by a thread blocked in `waitpid` for it: a task polling from a busy cooperative pool would
    /// see it late, and charge the test machine's load to the program for timing checks.
    func exit(within limit: Duration = .seconds(20)) async throws -> (status: Int32, at: ContinuousClock.Instant) {
        let process = self.process
        let exit = await ThreadWork(name: "test-waitpid") {
            (status: process.waitForExit(), at: ContinuousClock.now)
        }.value(before: .now + limit)
        guard let exit else {
            // Not process.send: the waiting thread holds the process's lock.
            kill(process.pid, SIGKILL)
            throw TimedOut(what: "\(name) exit", limit: limit)
        }
        return exit
    }

    deinit {
        process.send(SIGTERM)
    }

    private static func lines(of handle: FileHandle, recording recorded: Locked<[String]>) -> AsyncStream<String> {
        AsyncStream { continuation in
            @Sendable func yield(_ line: String) {
                recorded.withLock { $0.append(line) }
                continuation.yield(line)
            }
            let thread = Thread {
                var pending = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: 0x0A) {
                        yield(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                }
                if !pending.isEmpty { yield(String(decoding: pending, as: UTF8.self)) }
                continuation.finish()
            }
            thread.start()
        }
    }
}

/// A child process that is missing, or ended without what the test expected of it.
struct ChildProcessFailure: Error, CustomStringConvertible {
    let description: String
}
