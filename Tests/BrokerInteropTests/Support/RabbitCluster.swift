import BrokerLauncher
import ConcurrencyPrimitives
import Foundation
import ProcessSpawning
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// RabbitMQ nodes with the MQTT plugin on loopback, clustered when there are several: node 1
/// starts a cluster, and once it is up every other node joins it while booting
/// (`scripts/brokers/rabbitmq.sh` with a seed node), so no `rabbitmqctl` call is needed.
///
/// The nodes find each other through an epmd of their own on a free port, which this object
/// starts in the foreground and stops: an epmd a node starts itself is a daemon that outlives
/// the test. Every socket (epmd, distribution, AMQP, MQTT) is on 127.0.0.1.
final class RabbitCluster: Sendable {
    /// A node that listens, with the name it started under.
    typealias StartedNode = (node: BrokerProcess, name: String)

    /// The nodes, in order; node 1 is the seed the others joined.
    let nodes: [BrokerProcess]
    /// The Erlang node names (`n1-RANDOM@localhost`), in the order of ``nodes``.
    let nodeNames: [String]
    private let epmd: SpawnedProcess
    private let epmdPort: Int
    private let home: URL

    private init(nodes: [BrokerProcess], nodeNames: [String], epmd: SpawnedProcess, epmdPort: Int, home: URL) {
        self.nodes = nodes
        self.nodeNames = nodeNames
        self.epmd = epmd
        self.epmdPort = epmdPort
        self.home = home
    }

    /// Starts `nodeCount` nodes and waits until each listens for MQTT: node 1 first, then the
    /// others at once, each joining node 1's cluster while it boots.
    ///
    /// The others wait for node 1 to be up: a node joining a seed that is itself still booting
    /// was seen (under load, in `make stress`) to leave both nodes waiting on each other's
    /// tables until the timeout.
    static func start(nodeCount: Int, timeout: Duration = .seconds(120)) async throws -> RabbitCluster {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/rabbitmq/bin/rabbitmq-server") else {
            throw BrokerUnavailable(
                "RabbitMQ",
                "/usr/lib/rabbitmq/bin/rabbitmq-server is missing: run scripts/setup.sh (apt package rabbitmq-server)")
        }
        let home = try BrokerProcess.makeDirectory("rabbitmq")
        let epmdPort = try BrokerPort.free()
        let epmd = try await startEpmd(port: epmdPort)
        let suffix = UInt32.random(in: 0...UInt32.max)
        let names = (1...nodeCount).map { "n\($0)-\(suffix)@localhost" }
        @Sendable func node(_ index: Int) async throws -> StartedNode {
            try await startNode(
                names[index], index: index, seed: index == 0 ? nil : names[0], home: home, epmdPort: epmdPort,
                timeout: timeout)
        }
        var started: [Int: StartedNode] = [:]
        var failure: (any Error)?
        do {
            started[0] = try await node(0)
            // Joiners that start are kept even when another fails, so that `stop()` ends them.
            await withTaskGroup(of: (Int, Result<StartedNode, any Error>).self) { group in
                for index in names.indices.dropFirst() {
                    group.addTask {
                        do { return (index, .success(try await node(index))) } catch { return (index, .failure(error)) }
                    }
                }
                for await (index, result) in group {
                    switch result {
                    case .success(let joined): started[index] = joined
                    case .failure(let error): failure = failure ?? error
                    }
                }
            }
        } catch {
            failure = error
        }
        let inOrder = names.indices.compactMap { started[$0] }
        let cluster = RabbitCluster(
            nodes: inOrder.map(\.node), nodeNames: inOrder.map(\.name), epmd: epmd, epmdPort: epmdPort, home: home)
        if let failure {
            cluster.stop()
            throw failure
        }
        return cluster
    }

    /// Starts `epmd` on `port` in the foreground and waits until it listens.
    private static func startEpmd(port: Int) async throws -> SpawnedProcess {
        let epmd: SpawnedProcess
        do {
            epmd = try SpawnedProcess(
                executable: "/usr/bin/epmd", arguments: ["-address", "127.0.0.1", "-port", String(port)],
                captureOutput: false)
        } catch {
            throw BrokerUnavailable(
                "epmd", "cannot start /usr/bin/epmd: \(error) (it comes with erlang-base, a RabbitMQ dependency)")
        }
        let listening = await ThreadWork(name: "interop-epmd") {
            epmd.waitUntilListening(onPort: port, timeout: .seconds(10))
        }.value(before: .now + .seconds(15))
        guard listening == .listening else {
            epmd.send(SIGKILL)
            epmd.waitForExit()
            throw BrokerUnavailable("epmd", "did not listen on 127.0.0.1:\(port)")
        }
        return epmd
    }

    /// Starts the node `name` (joining `seed`'s cluster when given) and waits until it listens.
    ///
    /// A joining node that fails (a free port taken before it bound it, or a failed join) tries
    /// again, twice at most, under a new name with fresh ports and data; the seed itself does
    /// not, the others having named it. Each failed attempt is printed.
    private static func startNode(
        _ name: String, index: Int, seed: String?, home: URL, epmdPort: Int, timeout: Duration
    ) async throws -> StartedNode {
        var failure: (any Error)?
        for attempt in 1...(seed == nil ? 1 : 3) {
            let attemptName = attempt == 1 ? name : name.replacingOccurrences(of: "@", with: "-\(attempt)@")
            do {
                let ports = try (0..<3).map { _ in try BrokerPort.free() }
                let arguments = [attemptName] + ports.map(String.init) + [String(epmdPort)] + (seed.map { [$0] } ?? [])
                let node = try await BrokerProcess.start(
                    "RabbitMQ node \(attemptName)", script: "rabbitmq.sh",
                    directory: home.appendingPathComponent("n\(index + 1)-\(attempt)"),
                    arguments: arguments, port: ports[0], timeout: timeout)
                return (node, attemptName)
            } catch {
                print("RabbitCluster: node \(index + 1), attempt \(attempt): \(error)")
                failure = error
            }
        }
        throw failure!
    }

    /// Mirrors the queues that hold MQTT sessions (`mqtt-subscription-*`) on every node, promoted
    /// when their node stops: without it a persistent session's queue lives on the node where the
    /// client first subscribed, and while that node is down RabbitMQ closes the connection of a
    /// client that subscribes again on another node ("home node ... of durable queue ... is down").
    func mirrorSessionQueues() async throws {
        let definition =
            #"{"ha-mode":"all","ha-sync-mode":"automatic","ha-promote-on-shutdown":"always","ha-promote-on-failure":"always"}"#
        try await rabbitmqctl([
            "set_policy", "--apply-to", "queues", "mqtt-sessions", "^mqtt-subscription-", definition,
        ])
    }

    /// `rabbitmqctl ARGUMENTS...` against node 1, failing with its output unless it exits 0.
    func rabbitmqctl(_ arguments: [String]) async throws {
        let script = BrokerProcess.scripts.appendingPathComponent("rabbitmqctl.sh").path
        let control = try ChildProcess(
            "/bin/bash", [script, nodes[0].directory.path, nodeNames[0], String(epmdPort)] + arguments,
            name: "rabbitmqctl")
        let status = try await control.exit(within: .seconds(60)).status
        guard status == 0 else {
            throw BrokerUnavailable(
                "rabbitmqctl \(arguments.first ?? "")",
                "exit status \(status): \(control.linesSoFar.suffix(10).joined(separator: " | "))")
        }
    }

    /// Stops every node still running, then epmd, and removes the data. Idempotent.
    func stop() {
        // In parallel: each node takes a few seconds to stop.
        let stopping = nodes.map { node in ThreadWork(name: "interop-stop") { node.terminate() } }
        while stopping.contains(where: { !$0.hasExited }) { usleep(20_000) }
        epmd.send(SIGTERM)
        epmd.waitForExit()
        try? FileManager.default.removeItem(at: home)
    }
}
