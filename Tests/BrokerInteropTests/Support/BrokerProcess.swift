import ConcurrencyPrimitives
import Foundation
import ProcessSpawning

#if canImport(Glibc)
import Glibc
#endif

/// A broker the interoperability tests started from one of `scripts/brokers/*.sh`: the script
/// execs the broker, so the process we hold is the broker itself and stopping it leaves nothing
/// behind. Its data and log live in a directory of its own, removed on ``stop()``.
///
/// Ready means the broker's own process listens on its MQTT port (read from `/proc`), never a
/// sleep and never "the port accepts", which another program could have taken first.
final class BrokerProcess: Sendable {
    /// What the tables and failures call it: `RabbitMQ node n1@localhost`.
    let name: String
    /// The MQTT port on 127.0.0.1.
    let port: Int
    /// The broker's data directory (its log is `broker.log` in it, RabbitMQ's under `log/`).
    let directory: URL
    let process: SpawnedProcess

    /// `scripts/brokers` of this checkout.
    static let scripts = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/brokers")

    private init(name: String, port: Int, directory: URL, process: SpawnedProcess) {
        self.name = name
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// A fresh directory for one broker's data, under the system temporary directory.
    static func makeDirectory(_ label: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("vbus-interop-\(getpid())-\(label)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Runs `scripts/brokers/SCRIPT DIRECTORY ARGUMENTS...` and waits until it listens on `port`.
    ///
    /// - Throws: ``BrokerUnavailable`` with the end of the broker's log when it is not installed,
    ///   exits, or does not listen within `timeout`. A missing broker fails the test, never skips it.
    static func start(
        _ name: String, script: String, directory: URL, arguments: [String], port: Int,
        timeout: Duration = .seconds(90)
    ) async throws -> BrokerProcess {
        let path = scripts.appendingPathComponent(script).path
        guard FileManager.default.fileExists(atPath: path) else { throw BrokerUnavailable(name, "\(path) is missing") }
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(
                executable: "/bin/bash", arguments: [path, directory.path] + arguments, captureOutput: false)
        } catch {
            throw BrokerUnavailable(name, "cannot start \(script): \(error)")
        }
        let broker = BrokerProcess(name: name, port: port, directory: directory, process: process)
        // The wait blocks (polling /proc): on a thread of its own, not a cooperative one.
        let outcome = await ThreadWork(name: "interop-start") {
            process.waitUntilListening(onPort: port, timeout: timeout)
        }.value(before: .now + timeout + .seconds(5))
        switch outcome {
        case .listening?:
            return broker
        case .exited?:
            let status = process.waitForExit()
            let tail = broker.logTail  // before the directory goes
            broker.removeDirectory()
            throw BrokerUnavailable(
                name,
                "exited with status \(status) before listening on 127.0.0.1:\(port)\(tail)"
                    + " (is it installed? run scripts/setup.sh)")
        case .timedOut?, nil:
            let tail = broker.logTail
            broker.stop()
            throw BrokerUnavailable(name, "did not listen on 127.0.0.1:\(port) within \(timeout)\(tail)")
        }
    }

    /// Stops the broker: SIGTERM, and SIGKILL if it has not ended within `grace` (a RabbitMQ node
    /// stops in a few seconds). Blocks until the process is gone; idempotent.
    func stop(grace: Duration = .seconds(20)) {
        terminate(grace: grace)
        removeDirectory()
    }

    /// Stops the process but keeps its directory (a node of a cluster stopped mid-test).
    func terminate(grace: Duration = .seconds(20)) { process.stop(grace: grace) }

    private func removeDirectory() { try? FileManager.default.removeItem(at: directory) }

    /// The end of the broker's log, for failure messages.
    var logTail: String {
        var logs = [directory.appendingPathComponent("broker.log")]
        let rabbitLogs = directory.appendingPathComponent("log")
        for file in (try? FileManager.default.contentsOfDirectory(atPath: rabbitLogs.path)) ?? []
        where file.hasSuffix(".log") {
            logs.append(rabbitLogs.appendingPathComponent(file))
        }
        let text = logs.compactMap { try? String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
        guard !text.isEmpty else { return "" }
        return "; log: " + text.suffix(1_500).split(separator: "\n").joined(separator: " | ")
    }

    deinit { if process.isRunning { stop(grace: .seconds(5)) } }
}

/// A broker the tests need did not start: a failure, with the broker's own words.
struct BrokerUnavailable: Error, CustomStringConvertible {
    let description: String
    init(_ name: String, _ reason: String) { description = "\(name): \(reason)" }
}
