import ConcurrencyPrimitives
import Foundation
import ProcessSpawning
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A program the cluster test starts (`vbus bridge`, a paho-mqtt or pyzmq peer from Tests/Peers),
/// with every line it writes on standard output and error kept, and bounded waits for a line and
/// for its exit. Killed when it goes away, so a failing test leaves no process behind.
final class PeerProcess: Sendable {
    let name: String
    let process: SpawnedProcess
    private let log = LineLog()

    init(_ name: String, executable: String, arguments: [String]) throws {
        self.name = name
        process = try SpawnedProcess(executable: executable, arguments: arguments)
        for descriptor in [process.standardOutput!, process.standardError!] {
            // A copy of the descriptor: the process closes its own when it goes away.
            let copy = dup(descriptor)
            let log = self.log
            let thread = Thread {
                var pending: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4_096)
                while true {
                    let count = chunk.withUnsafeMutableBytes { read(copy, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    pending += chunk[0..<count]
                    while let newline = pending.firstIndex(of: 0x0A) {
                        let line = String(decoding: pending[..<newline], as: UTF8.self)
                        log.lines.withLock { $0.append(line) }
                        pending.removeSubrange(...newline)
                    }
                }
                if !pending.isEmpty { log.lines.withLock { $0.append(String(decoding: pending, as: UTF8.self)) } }
                close(copy)
                log.readersDone.withLock { $0 += 1 }
            }
            thread.start()
        }
    }

    /// `python3 Tests/Peers/SCRIPT ARGUMENTS...`.
    static func peer(_ script: String, _ arguments: [String]) throws -> PeerProcess {
        let peers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Peers")
        return try PeerProcess(
            script, executable: "/usr/bin/env",
            arguments: ["python3", peers.appendingPathComponent(script).path] + arguments)
    }

    /// `vbus` as built next to the test bundle (`swift build --build-tests` builds it).
    static func vbus(_ arguments: [String]) throws -> PeerProcess {
        var path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "vbus"
        ).path
        if !FileManager.default.fileExists(atPath: path) {
            path = FileManager.default.currentDirectoryPath + "/.build/debug/vbus"
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw PeerFailure("vbus is not built: run `swift build --build-tests`")
        }
        return try PeerProcess("vbus " + (arguments.first ?? ""), executable: path, arguments: arguments)
    }

    /// Every line so far, both streams interleaved as read.
    var transcript: [String] { log.lines.withLock { $0 } }

    /// The first line (from the start) satisfying `predicate`, waiting up to `limit` for it.
    @discardableResult
    func line(within limit: Duration = .seconds(30), where predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while true {
            if let found = transcript.first(where: predicate) { return found }
            if ContinuousClock.now >= deadline || !process.isRunning {
                // One more look: the last lines may have come with the exit.
                if let found = transcript.first(where: predicate) { return found }
                throw PeerFailure(
                    """
                    \(name): the expected line did not come within \
                    \(limit)\(process.isRunning ? "" : " (it exited)"); it wrote: 
                    """
                        + transcript.suffix(15).joined(separator: " | "))
            }
            try await Task.sleep(for: .milliseconds(20))  // polling the lines a reader thread appends
        }
    }

    /// SIGTERM (a graceful stop for `vbus bridge`).
    func terminate() { process.send(SIGTERM) }

    /// The exit status, waiting up to `limit` on a thread of its own; SIGKILL after that.
    func exit(within limit: Duration = .seconds(20)) async throws -> Int32 {
        let process = self.process
        let status = await ThreadWork(name: "interop-waitpid") { process.waitForExit() }.value(before: .now + limit)
        guard let status else {
            kill(process.pid, SIGKILL)
            throw PeerFailure("\(name) did not exit within \(limit)")
        }
        // Its last lines: the readers see the end of the output right after the exit.
        let deadline = ContinuousClock.now + .seconds(5)
        while log.readersDone.withLock({ $0 }) < 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return status
    }

    deinit { if process.isRunning { kill(process.pid, SIGKILL) } }
}

/// The lines read so far, shared with the reader threads.
private final class LineLog: Sendable {
    let lines = Mutex<[String]>([])
    /// Reader threads that reached the end of their stream (two when all output is in `lines`).
    let readersDone = Mutex(0)
}

struct PeerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
