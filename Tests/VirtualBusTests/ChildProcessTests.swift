import Testing
import TestSupport

/// The tests' own ``ChildProcess``: a line that does not come fails the test in time, naming the
/// program and quoting what it wrote, and the two ways of looking for a line keep their meaning.
@Suite("ChildProcess: waits for lines that fail clearly and in time", .timeLimit(.minutes(1)))
struct ChildProcessTests {
    @Test("its output ends without the line: fails at once, naming it and quoting its last lines")
    func outputEndsWithoutTheLine() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo one; echo two"], name: "two-liner")
        let start = ContinuousClock.now
        let failure = await #expect(throws: ChildProcessFailure.self) {
            try await child.nextLine(within: .seconds(30)) { $0 == "three" }
        }
        #expect(ContinuousClock.now - start < .seconds(10), "the end of its output is the answer, not the deadline")
        let description = failure?.description ?? ""
        #expect(description.hasPrefix("two-liner ") && description.contains("one | two"), "\(description)")
    }

    @Test("a line that never comes from a running program: fails at the deadline, naming the wait")
    func deadline() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo waiting; exec sleep 30"], name: "sleeper")
        let failure = await #expect(throws: ChildProcessFailure.self) {
            try await child.nextLine(within: .milliseconds(500)) { $0 == "done" }
        }
        #expect(failure?.description.contains("within 0.5 seconds") == true, "\(failure?.description ?? "")")
        #expect(failure?.description.contains("waiting") == true, "\(failure?.description ?? "")")
    }

    @Test("nextLine goes on after the lines it took, per output; firstLine searches both from the start")
    func nextAndFirst() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo a; echo b; echo e >&2"])
        #expect(try await child.nextLine { $0 == "b" } == "b")
        #expect(try await child.nextLine(.standardError) { _ in true } == "e")
        #expect(try await child.firstLine { $0 == "a" } == "a")
        await #expect(throws: ChildProcessFailure.self) { try await child.nextLine { $0 == "a" } }
        #expect(try await child.exit().status == 0)
        #expect(try await child.transcript().split(separator: "\n").sorted() == ["a", "b", "e"])
    }
}
