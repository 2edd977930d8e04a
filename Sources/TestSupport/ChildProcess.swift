import ConcurrencyPrimitives
import ProcessSpawning

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A program a test starts (`vbus`, `vbus-bench`, the demo, mosquitto's clients, a pyzmq or
/// paho-mqtt peer), with every line it writes kept, bounded waits for a line and for its exit,
/// and failures that name it and quote its last lines.
///
/// Started with `posix_spawn` (``SpawnedProcess``), not Foundation's `Process`, whose `run()`
/// crashes intermittently in a process with as many descriptors as a test runner has. When it
/// goes away, ``SpawnedProcess`` kills it (SIGKILL) and reaps it, so a failing test leaves no
/// process behind.
public final class ChildProcess: Sendable {
    /// One of the two outputs a child writes lines on.
    public enum Output: Sendable, Hashable {
        case standardOutput, standardError
    }

    /// How it ended: its exit status (128 + the signal's number when a signal ended it), and when.
    public typealias Exit = (status: Int32, at: ContinuousClock.Instant)

    /// What failures call it: `vbus bridge`, `paho_counting_subscriber.py`.
    public let name: String
    private let process: SpawnedProcess
    private let output = ChildProcessOutput()
    /// After its exit, how long ``exit(within:)`` waits for the last lines to be read: a grandchild
    /// that inherited the pipes can keep them open, and that must not fail the test.
    private static let lastLinesGrace: Duration = .seconds(5)

    /// Starts `executable` (a path) with `arguments`; `standardInput` is written to it and closed.
    /// `name` defaults to the executable's file name and the first argument.
    public init(_ executable: String, _ arguments: [String], standardInput: String? = nil, name: String? = nil)
        throws
    {
        let program = executable.split(separator: "/").last.map(String.init) ?? executable
        self.name = name ?? ([program] + arguments.prefix(1)).joined(separator: " ")
        process = try SpawnedProcess(
            executable: executable, arguments: arguments, standardInput: standardInput.map { Array($0.utf8) })
        // Readers own copies of the descriptors: the process closes its own when it goes away,
        // while a reader may still be draining the last lines.
        output.startReading(dup(process.standardOutput!), as: .standardOutput)
        output.startReading(dup(process.standardError!), as: .standardError)
    }

    /// Sends SIGTERM.
    public func terminate() { process.send(SIGTERM) }

    /// Waits for the exit (bounded) and returns the status with the instant it happened, as seen
    /// by a thread blocked in `waitpid` for it: a task polling from a busy cooperative pool would
    /// see it late, and charge the test machine's load to the program for timing checks. Its last
    /// lines are read by the time this returns (see ``lastLinesGrace``). SIGKILL when it does not
    /// exit within `limit`.
    public func exit(within limit: Duration = .seconds(20)) async throws -> Exit {
        let process = self.process
        let exit = await ThreadWork(name: "child-waitpid") {
            (status: process.waitForExit(), at: ContinuousClock.now)
        }.value(before: .now + limit)
        guard let exit else {
            // Not process.send: the waiting thread holds the process's lock.
            kill(process.pid, SIGKILL)
            throw failure("did not exit within \(limit)")
        }
        _ = await output.waitForEnd(of: [.standardOutput, .standardError], until: .now + Self.lastLinesGrace)
        return exit
    }

    /// Every line so far, both outputs interleaved as read.
    public var linesSoFar: [String] { output.lines }

    /// The first line of `output` after the lines earlier calls of this method took from it (as a
    /// reader of a stream would), satisfying `predicate`; waits up to `limit` for it.
    @discardableResult
    public func nextLine(
        _ output: Output = .standardOutput, within limit: Duration = .seconds(30), where predicate: (String) -> Bool
    ) async throws -> String {
        guard let line = await self.output.takeLine(from: output, until: .now + limit, where: predicate) else {
            throw failure("did not write the expected line on \(output) within \(limit)")
        }
        return line
    }

    /// The first line from the start, on either output, satisfying `predicate`, whatever earlier
    /// waits took; waits up to `limit` for it.
    @discardableResult
    public func firstLine(within limit: Duration = .seconds(30), where predicate: (String) -> Bool) async throws
        -> String
    {
        guard let line = await output.firstLine(until: .now + limit, where: predicate) else {
            throw failure("did not write the expected line within \(limit)")
        }
        return line
    }

    /// Every line of `output`, once it has ended (within `limit`).
    public func allLines(of output: Output = .standardOutput, within limit: Duration = .seconds(10)) async throws
        -> [String]
    {
        guard await self.output.waitForEnd(of: [output], until: .now + limit) else {
            throw failure("did not end its \(output) within \(limit)")
        }
        return self.output.lines(of: output)
    }

    /// Everything the process wrote on standard output and standard error, once both have ended
    /// (within `limit`), lines already taken by ``nextLine(_:within:where:)`` included: for
    /// checking what a program must never print, such as a password.
    public func transcript(within limit: Duration = .seconds(10)) async throws -> String {
        guard await output.waitForEnd(of: [.standardOutput, .standardError], until: .now + limit) else {
            throw failure("did not end its output within \(limit)")
        }
        return linesSoFar.joined(separator: "\n")
    }

    /// A failure naming this process and quoting its last lines.
    private func failure(_ what: String) -> ChildProcessFailure {
        let ended = output.hasEnded([.standardOutput, .standardError]) ? " (its output has ended)" : ""
        let last = linesSoFar.suffix(15)
        return ChildProcessFailure(
            description: "\(name) \(what)\(ended); its last lines: "
                + (last.isEmpty ? "(none)" : last.joined(separator: " | ")))
    }
}

/// A child process that is missing, or did not do in time what the test expected of it.
public struct ChildProcessFailure: Error, CustomStringConvertible {
    public let description: String
}
