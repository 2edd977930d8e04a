import ConcurrencyPrimitives
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a ``ChildProcess`` wrote, line by line as its reader threads read it, and waits for a
/// line or for the end that wake at every new line instead of polling.
final class ChildProcessOutput: Sendable {
    private struct Line {
        let output: ChildProcess.Output
        let text: String
    }

    private struct State {
        /// Both outputs, interleaved as read.
        var lines: [Line] = []
        /// The outputs whose reader reached the end.
        var ended: Set<ChildProcess.Output> = []
        /// Per output, where ``takeLine(from:until:where:)`` goes on: the lines before were taken.
        var untaken: [ChildProcess.Output: Int] = [:]
        /// Fires at the next new line or end, then is replaced: a waiter that found nothing awaits
        /// the event it read together with the lines, so no change can slip between its look and
        /// its wait.
        var changed = OneShotEvent()
    }

    /// What one look at the lines concluded.
    private enum Look<Found> {
        case found(Found)
        case notYet
        /// Not there, and it can no longer come: the outputs it is looked for on have ended.
        case never
    }

    private let state = Locked(State())

    /// Every line so far, both outputs interleaved as read.
    var lines: [String] { state.withLock { $0.lines.map(\.text) } }

    /// The lines of `output` so far.
    func lines(of output: ChildProcess.Output) -> [String] {
        state.withLock { $0.lines.filter { $0.output == output }.map(\.text) }
    }

    /// Whether every output of `outputs` has ended.
    func hasEnded(_ outputs: Set<ChildProcess.Output>) -> Bool {
        state.withLock { outputs.isSubset(of: $0.ended) }
    }

    /// Reads `descriptor` (which it closes at the end) line by line on a thread of its own.
    func startReading(_ descriptor: Int32, as output: ChildProcess.Output) {
        let thread = Thread { [self] in
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4_096)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                pending += chunk[0..<count]
                while let newline = pending.firstIndex(of: 0x0A) {
                    append(Line(output: output, text: String(decoding: pending[..<newline], as: UTF8.self)))
                    pending.removeSubrange(...newline)
                }
            }
            if !pending.isEmpty { append(Line(output: output, text: String(decoding: pending, as: UTF8.self))) }
            close(descriptor)
            change { $0.ended.insert(output) }
        }
        thread.start()
    }

    /// The first line of `output` from where the previous take ended that satisfies `predicate`,
    /// taken with the lines before it; `nil` when `deadline` passes or the output ends first.
    func takeLine(
        from output: ChildProcess.Output, until deadline: ContinuousClock.Instant, where predicate: (String) -> Bool
    ) async -> String? {
        await wait(until: deadline) { state in
            let start = state.untaken[output, default: 0]
            let match = state.lines[start...].firstIndex { $0.output == output && predicate($0.text) }
            // Lines looked at are taken even without a match, as a stream's reader consumes them.
            state.untaken[output] = match.map { $0 + 1 } ?? state.lines.count
            if let match { return .found(state.lines[match].text) }
            return state.ended.contains(output) ? .never : .notYet
        }
    }

    /// The first line from the start, on either output, that satisfies `predicate`; `nil` when
    /// `deadline` passes or both outputs end first.
    func firstLine(until deadline: ContinuousClock.Instant, where predicate: (String) -> Bool) async -> String? {
        var searched = 0  // lines already looked at: each line is looked at once
        return await wait(until: deadline) { state in
            let match = state.lines[searched...].first { predicate($0.text) }
            searched = state.lines.count
            if let match { return .found(match.text) }
            return state.ended.count == 2 ? .never : .notYet
        }
    }

    /// Whether every output of `outputs` ended before `deadline`.
    func waitForEnd(of outputs: Set<ChildProcess.Output>, until deadline: ContinuousClock.Instant) async -> Bool {
        await wait(until: deadline) { outputs.isSubset(of: $0.ended) ? .found(true) : .notYet } ?? false
    }

    /// Looks at the state now and again at every change until `look` finds what it wants;
    /// `nil` when it says it never will or `deadline` passes.
    private func wait<Found>(until deadline: ContinuousClock.Instant, _ look: (inout State) -> Look<Found>) async
        -> Found?
    {
        while true {
            let (outcome, changed) = state.withLock { state in (look(&state), state.changed) }
            switch outcome {
            case .found(let found): return found
            case .never: return nil
            case .notYet: guard await changed.wait(until: deadline) else { return nil }
            }
        }
    }

    private func append(_ line: Line) { change { $0.lines.append(line) } }

    /// Applies `update` and wakes every waiter, outside the lock.
    private func change(_ update: (inout State) -> Void) {
        let changed = state.withLock { state in
            update(&state)
            defer { state.changed = OneShotEvent() }
            return state.changed
        }
        changed.fire()
    }
}
