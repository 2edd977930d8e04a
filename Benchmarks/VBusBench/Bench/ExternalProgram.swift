import ConcurrencyPrimitives
import Dispatch
import Foundation
import ProcessSpawning
import Synchronization

/// Runs the reference programs (C anchors, Python seeds) as child processes of the benchmark, so
/// ours and theirs are measured in one process tree on the same machine state.
enum ExternalProgram {
    /// Runs `executable` with `arguments` (and `environment` added to ours); returns its standard
    /// output. Fails with its stderr, or when it runs past `timeout` (it is then killed).
    ///
    /// Spawned with ``SpawnedProcess``, not Foundation's `Process`: its `run()` crashes
    /// intermittently in a process with many descriptors (a `vbus-bench` started by the tests).
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(300)
    ) throws -> String {
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let process: SpawnedProcess
        do {
            process =
                environment.isEmpty
                ? try SpawnedProcess(executable: executable, arguments: arguments)
                : try SpawnedProcess(executable: "/usr/bin/env", arguments: assignments + [executable] + arguments)
        } catch {
            throw BenchFailure(description: "cannot start \(executable): \(error)")
        }
        // Both pipes are drained at once (a chatty stderr must not block the child), and a
        // watchdog kills a program that overruns; the reads then reach their end.
        let finished = OneShotEvent(), killed = Atomic<Bool>(false)
        let errorText = Mutex<[UInt8]>([]), errorsRead = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            if !finished.waitBlocking(timeout: timeout) {
                killed.store(true, ordering: .relaxed)
                process.send(SIGKILL)
            }
        }
        DispatchQueue.global().async {
            errorText.withLock { $0 = SpawnedProcess.readAll(process.standardError!) }
            errorsRead.signal()
        }
        let text = String(decoding: SpawnedProcess.readAll(process.standardOutput!), as: UTF8.self)
        errorsRead.wait()
        let status = process.waitForExit()
        finished.fire()
        if killed.load(ordering: .relaxed) {
            throw BenchFailure(description: "\(executable) did not finish within \(timeout)")
        }
        guard status == 0 else {
            let errors = String(decoding: errorText.withLock { $0 }, as: UTF8.self)
            throw BenchFailure(
                description: "\(executable) \(arguments.joined(separator: " ")) exited with \(status): \(errors)\(text)"
            )
        }
        return text
    }

    /// Compiles a C anchor with gcc -O2 into a temporary directory; returns the binary's path.
    static func compileC(_ source: String, libraries: [String]) throws -> String {
        guard FileManager.default.fileExists(atPath: source) else {
            throw BenchFailure(
                description: "anchor not found: \(source) (run from the repository root, or pass --anchors DIR)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vbus-anchors-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let binary = directory.appendingPathComponent(
            URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        ).path
        _ = try run("/usr/bin/gcc", ["-O2", "-o", binary, source] + libraries.map { "-l\($0)" })
        return binary
    }

    /// The first number before `unit` in `text`, e.g. the rate in `... = 123456 msgs/s`.
    static func number(before unit: String, in text: String) -> Double? {
        guard let range = text.range(of: unit) else { return nil }
        let prefix = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let digits = prefix.reversed().prefix { $0.isNumber || $0 == "." }
        return Double(String(digits.reversed()))
    }
}
