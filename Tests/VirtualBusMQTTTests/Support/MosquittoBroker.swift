import Foundation
import NIOCore
import NIOPosix
import Testing
import ZeroMQ

/// A real mosquitto the tests start on a free loopback port with a generated config.
///
/// Fails loudly (never skips) when mosquitto is missing or does not come up. Readiness is
/// detected by finding mosquitto's own listening socket, not by sleeping.
final class MosquittoBroker: @unchecked Sendable {
    // @unchecked: `port` and `process` are replaced only by start()/stop()/restart(), which tests call sequentially
    // from one task; the other properties are immutable.
    static let executable = "/usr/sbin/mosquitto"

    private(set) var port: Int
    let directory: URL
    let extraConfig: String
    /// Started with posix_spawn (SpawnedProcess): Foundation's Process.run() crashes intermittently
    /// in a process with as many descriptors as the test runner.
    private var process: SpawnedProcess?

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    let anonymous: Bool

    private init(port: Int, directory: URL, extraConfig: String, anonymous: Bool) {
        self.anonymous = anonymous
        self.port = port
        self.directory = directory
        self.extraConfig = extraConfig
    }

    /// Starts mosquitto with `listener PORT 127.0.0.1`, `allow_anonymous` and `extraConfig`
    /// (which may add TLS or password settings for that listener).
    static func start(extraConfig: String = "", persistence: Bool = false, anonymous: Bool = true) async throws -> MosquittoBroker {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw StartError(description: "mosquitto not found at \(executable): install the mosquitto package (apt-get install mosquitto)")
        }
        let port = try await freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vbus-mosquitto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var config = extraConfig
        if persistence {
            // mosquitto drops root privileges to its own user, which must be able to write here.
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.path)
            // max_inflight_messages: see PrivateBroker (mosquitto restores only that many in-flight
            // messages with their state; the rest come back as new PUBLISHes).
            config += "\nmax_inflight_messages 1000\npersistence true\npersistence_location \(dir.path)/\nautosave_on_changes true\nautosave_interval 1\n"
        }
        let broker = MosquittoBroker(port: port, directory: dir, extraConfig: config, anonymous: anonymous)
        // The port was free when probed but another process may take it before mosquitto binds:
        // try a fresh port a few times before failing.
        var lastError: (any Error)?
        for _ in 0..<3 {
            do {
                try await broker.launch()
                return broker
            } catch {
                lastError = error
                broker.stop()
                broker.port = try await freePort()
            }
        }
        throw lastError!
    }

    /// Runs `body` with a fresh broker and always stops it afterwards.
    static func with<R>(extraConfig: String = "", persistence: Bool = false, anonymous: Bool = true,
                        _ body: (MosquittoBroker) async throws -> R) async throws -> R {
        let broker = try await start(extraConfig: extraConfig, persistence: persistence, anonymous: anonymous)
        defer {
            broker.stop()
            try? FileManager.default.removeItem(at: broker.directory)
        }
        return try await body(broker)
    }

    private func launch() async throws {
        let configURL = directory.appendingPathComponent("mosquitto.conf")
        let config = """
            listener \(port) 127.0.0.1
            allow_anonymous \(anonymous)
            max_inflight_messages 0
            max_queued_messages 100000
            log_type error
            log_dest stderr
            \(extraConfig)

            """
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        let process = try SpawnedProcess(executable: Self.executable, arguments: ["-c", configURL.path])
        self.process = process
        try await waitUntilListening(process)
    }

    private func waitUntilListening(_ process: SpawnedProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(30)  // generous: a loaded CI machine starts processes slowly
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                let err = String(decoding: SpawnedProcess.readAll(process.standardError!), as: UTF8.self)
                throw StartError(description: "mosquitto exited with status \(process.waitForExit()): \(err)")
            }
            // mosquitto's own listening socket, not just "the port accepts": another test's listener
            // can take the port between our probe and mosquitto's bind.
            if process.isListening(onPort: port) { return }
            try await Task.sleep(for: .milliseconds(10))  // poll interval between checks
        }
        process.send(SIGKILL)  // before reading stderr: the read waits for EOF
        process.waitForExit()
        let err = String(decoding: SpawnedProcess.readAll(process.standardError!), as: UTF8.self)
        throw StartError(description: "mosquitto did not listen on port \(port) within 30 s: \(err)")
    }

    /// Stops the broker. SIGKILL, because a child spawned from the test process may inherit a
    /// signal mask that blocks SIGTERM; persistence tests use `autosave_on_changes` instead.
    func stop() {
        guard let process else { return }
        process.send(SIGKILL)
        process.waitForExit()
        self.process = nil
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the broker: a dead-but-connected broker.
    func freeze(_ frozen: Bool) {
        guard let process else { return }
        process.send(frozen ? SIGSTOP : SIGCONT)
    }

    /// Starts the broker again on the same port with the same config (and persistence directory).
    func restart() async throws {
        stop()
        try await launch()
    }

    deinit { stop() }

    /// Runs a command line tool (openssl, mosquitto_passwd) for fixtures; throws on failure.
    static func tool(_ argv: [String], in directory: URL) throws {
        // posix_spawn has no working directory: a shell changes into it, then runs the tool.
        let p = try SpawnedProcess(executable: "/bin/sh", arguments: ["-c", "cd \"$0\" && exec \"$@\" 2>&1", directory.path] + argv)
        let output = SpawnedProcess.readAll(p.standardOutput!)
        guard p.waitForExit() == 0 else {
            throw StartError(description: "\(argv.joined(separator: " ")) failed: \(String(decoding: output, as: UTF8.self))")
        }
    }

    /// A free loopback port: bind to port 0, read the port, close.
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port
        try await channel.close()
        guard let port else { throw StartError(description: "no local port") }
        return port
    }
}
