import Foundation

/// Runs the reference programs (C anchors, Python seeds) as child processes of the benchmark, so
/// ours and theirs are measured in one process tree on the same machine state.
enum ExternalProgram {
    /// Runs `executable` with `arguments` (and `environment` added to ours); returns its standard
    /// output. Fails with its stderr.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    timeout: Duration = .seconds(300)) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let deadline = ContinuousClock.now + timeout
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw BenchFailure(description: "\(executable) did not finish within \(timeout)")
            }
            usleep(1000)
        }
        let text = String(decoding: outputData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BenchFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): \(String(decoding: errorData, as: UTF8.self))\(text)")
        }
        return text
    }

    /// Compiles a C anchor with gcc -O2 into a temporary directory; returns the binary's path.
    static func compileC(_ source: String, libraries: [String]) throws -> String {
        guard FileManager.default.fileExists(atPath: source) else {
            throw BenchFailure(description: "anchor not found: \(source) (run from the repository root, or pass --anchors DIR)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vbus-anchors-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let binary = directory.appendingPathComponent(URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent).path
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
