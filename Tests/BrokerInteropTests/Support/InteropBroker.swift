import BrokerLauncher
import Foundation
import ProcessSpawning
import VirtualBusMQTT

/// The brokers of the interoperability matrix: the one we test against every day, and the ones
/// users bring (RabbitMQ's MQTT plugin, NATS's MQTT listener, amqtt, a Python broker).
enum InteropBroker: String, CaseIterable, Sendable {
    case mosquitto, rabbitmq, nats, amqtt

    /// The brokers to test: all, or those named in `VBUS_INTEROP_BROKERS` (`nats,amqtt`) while
    /// working on one of them.
    static var selected: [InteropBroker] {
        guard let names = ProcessInfo.processInfo.environment["VBUS_INTEROP_BROKERS"] else { return allCases }
        return allCases.filter { names.split(separator: ",").contains(Substring($0.rawValue)) }
    }

    /// The name in tables: `RabbitMQ`.
    var title: String {
        switch self {
        case .mosquitto: "mosquitto"
        case .rabbitmq: "RabbitMQ"
        case .nats: "NATS"
        case .amqtt: "amqtt"
        }
    }

    /// The MQTT versions the broker speaks; the matrix tries every version on every broker all
    /// the same, to pin what a version it does not speak gives.
    var versions: [MQTTProtocolVersion] { self == .mosquitto ? [.v3_1_1, .v5] : [.v3_1_1] }

    /// The installed version, as its package states it (`3.10.8-1.1+deb12u1`), for the table.
    var installedVersion: String {
        let (executable, arguments): (String, [String]) =
            switch self {
            case .mosquitto: ("/usr/bin/dpkg-query", ["-W", "-f", "${Version}", "mosquitto"])
            case .rabbitmq: ("/usr/bin/dpkg-query", ["-W", "-f", "${Version}", "rabbitmq-server"])
            case .nats: ("/usr/bin/dpkg-query", ["-W", "-f", "${Version}", "nats-server"])
            case .amqtt:
                (
                    "/usr/bin/env",
                    ["python3", "-c", "import importlib.metadata as m; print(m.version('amqtt'), end='')"]
                )
            }
        guard let process = try? SpawnedProcess(executable: executable, arguments: arguments) else { return "?" }
        let output = String(decoding: SpawnedProcess.readAll(process.standardOutput!), as: UTF8.self)
        process.waitForExit()
        // The upstream version only: `3.10.8-1.1+deb12u1` -> `3.10.8`, `1:2.9.10-1+b3` -> `2.9.10`.
        let upstream = output.split(separator: ":").last.map(String.init) ?? output
        return upstream.split(separator: "-").first.map(String.init) ?? "?"
    }

    /// Starts the broker on free loopback ports; `stop` ends it and removes its data.
    func start() async throws -> (port: Int, stop: @Sendable () -> Void) {
        switch self {
        case .mosquitto:
            let broker = try await PrivateBroker.started(
                extraConfiguration: "max_inflight_messages 0\n", timeout: .seconds(30))
            return (broker.port, { broker.stop() })
        case .rabbitmq:
            let cluster = try await RabbitCluster.start(nodeCount: 1)
            return (cluster.nodes[0].port, { cluster.stop() })
        case .nats:
            let broker = try await Self.startOnFreePorts { port in
                try await BrokerProcess.start(
                    "NATS", script: "nats.sh", directory: try BrokerProcess.makeDirectory("nats"),
                    arguments: [String(port), String(try BrokerPort.free())], port: port, timeout: .seconds(30))
            }
            return (broker.port, { broker.stop() })
        case .amqtt:
            let broker = try await Self.startOnFreePorts { port in
                try await BrokerProcess.start(
                    "amqtt", script: "amqtt.sh", directory: try BrokerProcess.makeDirectory("amqtt"),
                    arguments: [String(port)], port: port, timeout: .seconds(30))
            }
            return (broker.port, { broker.stop() })
        }
    }

    /// A port free when probed can be taken before the broker binds it (the broker then exits):
    /// three fresh ports before giving up, with the last failure.
    private static func startOnFreePorts(_ start: (Int) async throws -> BrokerProcess) async throws -> BrokerProcess {
        var failure: (any Error)?
        for _ in 0..<3 {
            do { return try await start(try BrokerPort.free()) } catch { failure = error }
        }
        throw failure!
    }
}
