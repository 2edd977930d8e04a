import Foundation

/// The programs the tests start most: this package's executables, and python3 peers.
extension ChildProcess {
    /// `vbus` as built next to the test bundle (`swift build --build-tests` builds it).
    public static func vbus(_ arguments: [String], standardInput: String? = nil) throws -> ChildProcess {
        try built("vbus", arguments, standardInput: standardInput)
    }

    /// An executable of this package (`vbus`, `vbus-bench`, `BusDemo`), as built next to the test
    /// bundle; named after it and its first argument (`vbus bridge`).
    public static func built(_ product: String, _ arguments: [String], standardInput: String? = nil) throws
        -> ChildProcess
    {
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

    /// `python3 -c SCRIPT ARGUMENTS...`, for a peer short enough to keep in the test.
    public static func python(_ script: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess("/usr/bin/env", ["python3", "-c", script] + arguments, name: "python3 -c")
    }

    /// `python3 Tests/Peers/SCRIPT ARGUMENTS...`: a longer third-party peer kept as a script,
    /// named after it.
    public static func peer(_ script: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(
            "/usr/bin/env", ["python3", peers.appendingPathComponent(script).path] + arguments, name: script)
    }

    /// `Tests/Peers` of this checkout.
    private static let peers = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Peers")
}
