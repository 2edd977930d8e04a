import Foundation
import Testing
import VirtualBusMQTT

/// The suite of brokers we did not write. Serialized: RabbitMQ nodes are heavy for a small CI
/// machine, and the matrix and the cluster each start their brokers once and stop them at the end.
@Suite("Brokers we did not write", .serialized)
struct BrokerInteropTests {}

extension BrokerInteropTests {
    @Test(
        """
        the matrix: MQTTClient against mosquitto, RabbitMQ, NATS and amqtt at 3.1.1 and 5.0; refusals are typed \
        errors, never hangs; docs/MQTT.md shows the table
        """,
        .timeLimit(.minutes(10)))
    func matrix() async throws {
        var table = InteropTable()
        for broker in InteropBroker.selected {
            table.brokerVersions[broker] = broker.installedVersion
            let (port, stop) = try await broker.start()
            defer { stop() }
            for version in [MQTTProtocolVersion.v3_1_1, .v5] {
                let column = InteropTable.Column(broker: broker, version: version)
                table.columns.append(column)
                var cells: [InteropFeature: InteropOutcome] = [:]
                for feature in InteropFeature.allCases {
                    if feature != .connect, cells[.connect] != .works {
                        cells[feature] = .notApplicable
                        continue
                    }
                    cells[feature] = await FeatureProbe(port: port, version: version).run(feature)
                }
                table.cells[column] = cells
            }
        }
        print(table.markdown)
        for (column, cells) in table.cells {
            for (feature, outcome) in cells {
                #expect(
                    !outcome.isFailure, "\(column.broker.title) \(column.version) \(feature.rawValue): \(outcome.cell)")
            }
            if column.broker.versions.contains(column.version) {
                #expect(
                    cells[.connect] == .works,
                    "\(column.broker.title) speaks \(column.version): \(cells[.connect]?.cell ?? "")")
            } else if case .refused(let code, let message)? = cells[.connect] {
                // The refusal names the version, so a user knows what to change. A broker that never
                // answers (amqtt) ends in the connect timeout, whose error says the same.
                #expect(
                    code == .unsupportedProtocolVersion || code == .connectionFailed, "\(column.broker.title): \(code)")
                #expect(message.contains("5.0") && message.contains("3.1.1"), "\(column.broker.title): \(message)")
            } else {
                Issue.record(
                    """
                    \(column.broker.title) does not speak \(column.version), yet connect gave \
                    \(cells[.connect]?.cell ?? "")
                    """
                )
            }
        }
        for version in [MQTTProtocolVersion.v3_1_1, .v5] {
            let mosquitto = table.cells[InteropTable.Column(broker: .mosquitto, version: version)] ?? [:]
            #expect(
                mosquitto.values.allSatisfy { $0 == .works },
                "mosquitto \(version) is the reference: every feature works")
        }
        guard InteropBroker.selected == InteropBroker.allCases else { return }  // a partial run documents nothing
        if let complaint = try table.updateDocument() { Issue.record(Comment(rawValue: complaint)) }
    }
}
