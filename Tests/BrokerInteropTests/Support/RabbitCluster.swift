import ConcurrencyPrimitives
import Foundation
import ProcessSpawning
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// RabbitMQ nodes with the MQTT plugin on loopback, clustered when there are several: node 1
/// starts a cluster, every other node joins it while booting (`scripts/brokers/rabbitmq.sh` with
/// a seed node), so all start at once and no `rabbitmqctl` call is needed.
///
/// The nodes find each other through an epmd of their own on a free port, which this object
/// starts in the foreground and stops: an epmd a node starts itself is a daemon that outlives
/// the test. Every socket (epmd, distribution, AMQP, MQTT) is on 127.0.0.1.
final class RabbitCluster: Sendable {
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

    /// Starts `nodeCount` nodes and waits until each listens for MQTT.
    static func start(nodeCount: Int, timeout: Duration = .seconds(120)) async throws -> RabbitCluster {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/rabbitmq/bin/rabbitmq-server") else {
            throw BrokerUnavailable(
                "RabbitMQ",
                "/usr/lib/rabbitmq/bin/rabbitmq-server is missing: run scripts/setup.sh (apt package rabbitmq-server)")
        }
        let home = try BrokerProcess.makeDirectory("rabbitmq")
        let epmdPort = try BrokerProcess.freePort()
        let epmd: SpawnedProcess
        do {
            epmd = try SpawnedProcess(
                executable: "/usr/bin/epmd", arguments: ["-address", "127.0.0.1", "-port", String(epmdPort)],
                captureOutput: false)
        } catch {
            throw BrokerUnavailable(
                "epmd", "cannot start /usr/bin/epmd: \(error) (it comes with erlang-base, a RabbitMQ dependency)")
        }
        let listening = await ThreadWork(name: "interop-epmd") {
            epmd.waitUntilListening(onPort: epmdPort, timeout: .seconds(10))
        }.value(before: .now + .seconds(15))
        guard listening == .listening else {
            epmd.send(SIGKILL)
            epmd.waitForExit()
            throw BrokerUnavailable("epmd", "did not listen on 127.0.0.1:\(epmdPort)")
        }
        let suffix = UInt32.random(in: 0...UInt32.max)
        let names = (1...nodeCount).map { "n\($0)-\(suffix)@localhost" }
        var started: [Int: BrokerProcess] = [:]
        var failure: (any Error)?
        var startedNames: [Int: String] = [:]
        await withTaskGroup(of: (Int, Result<(BrokerProcess, String), any Error>).self) { group in
            for index in names.indices {
                group.addTask {
                    // A joining node that fails (a free port taken before it bound it, or a join
                    // that met the seed mid-boot) tries again under a new name, with fresh ports
                    // and data; the seed itself does not, the others having named it.
                    var failure: (any Error)?
                    for attempt in 1...(index == 0 ? 1 : 3) {
                        do {
                            let name =
                                attempt == 1
                                ? names[index] : names[index].replacingOccurrences(of: "@", with: "-\(attempt)@")
                            let ports = try (0..<3).map { _ in try BrokerProcess.freePort() }
                            var arguments = [name] + ports.map(String.init) + [String(epmdPort)]
                            if index > 0 { arguments.append(names[0]) }
                            let node = try await BrokerProcess.start(
                                "RabbitMQ node \(name)", script: "rabbitmq.sh",
                                directory: home.appendingPathComponent("n\(index + 1)-\(attempt)"),
                                arguments: arguments, port: ports[0], timeout: timeout)
                            return (index, .success((node, name)))
                        } catch {
                            print("RabbitCluster: node \(index + 1), attempt \(attempt): \(error)")
                            failure = error
                        }
                    }
                    return (index, .failure(failure!))
                }
            }
            for await (index, result) in group {
                switch result {
                case .success(let (node, name)):
                    started[index] = node
                    startedNames[index] = name
                case .failure(let error): failure = failure ?? error
                }
            }
        }
        let cluster = RabbitCluster(
            nodes: names.indices.compactMap { started[$0] }, nodeNames: names.indices.compactMap { startedNames[$0] },
            epmd: epmd, epmdPort: epmdPort, home: home)
        if let failure {
            cluster.stop()
            throw failure
        }
        return cluster
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
