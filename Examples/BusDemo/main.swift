// The demo: components on one VirtualBus, bridged to an MQTT broker.
//
//   sensors --(bus: sensors/*)--> bridge --(MQTT: demo/sensors/*)--> "cloud" controller
//   fan     <--(bus: cmd/fan)---- bridge <--(MQTT: demo/cmd/fan)---- "cloud" controller
//   logger: prints everything on the bus
//
// Without --broker a private mosquitto is started on a free loopback port. Ctrl-C (or --seconds)
// shuts everything down in order and prints the bus's shutdown report.
import BrokerLauncher
import Logging
import ServiceLifecycle
import VirtualBus
import VirtualBusBridge
import VirtualBusMQTT

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
if arguments.contains("--help") {
    print("usage: BusDemo [--seconds N] [--broker HOST:PORT]   (runs until Ctrl-C without --seconds)")
    exit(0)
}
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let seconds = option("--seconds").flatMap(Int.init)

// The broker: the one given, or a private mosquitto.
var privateBroker: PrivateBroker?
let (host, port): (String, Int)
if let broker = option("--broker"), let colon = broker.lastIndex(of: ":"),
    let brokerPort = Int(broker[broker.index(after: colon)...])
{
    (host, port) = (String(broker[..<colon]), brokerPort)
} else {
    let started = try await PrivateBroker.started()
    privateBroker = started
    (host, port) = ("127.0.0.1", started.port)
    print("demo: started a private mosquitto at \(started.url)")
}
defer { privateBroker?.stop() }

let bus = try VirtualBus()
let bridge = MQTTBridge(
    bus: bus,
    mqtt: MQTTClient(configuration: MQTTClientConfiguration(host: host, port: port, clientID: "demo-bridge")),
    rules: [
        try BridgeRule(.out, "sensors/#", remotePrefix: "demo/"),
        try BridgeRule(.in, "cmd/#", remotePrefix: "demo/"),
    ],
    id: "demo-bridge"
)
let cloud = MQTTClient(configuration: MQTTClientConfiguration(host: host, port: port, clientID: "demo-cloud"))
var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
    .init(service: bridge),
    .init(service: cloud),
    .init(service: CloudController(client: cloud, threshold: 62)),
    .init(service: try await FanComponent(bus: bus)),
    .init(service: try await LoggerComponent(bus: bus)),
    .init(service: SensorComponent(bus: bus, name: "boiler", base: 60)),
    .init(service: SensorComponent(bus: bus, name: "attic", base: 25)),
]
if let seconds {
    services.append(
        .init(service: StopAfter(duration: .seconds(seconds)), successTerminationBehavior: .gracefullyShutdownGroup))
}
var logger = Logger(label: "BusDemo")
logger.logLevel = .warning
// A ServiceGroup stops services in reverse order: sensors first, the bridge (and with it the bus) last.
let group = ServiceGroup(
    configuration: .init(services: services, gracefulShutdownSignals: [.sigint, .sigterm], logger: logger))
print("demo: running\(seconds.map { " for \($0) s" } ?? " until Ctrl-C"), broker \(host):\(port)")
try await group.run()
let report = await bus.shutdown()
let rules = bridge.statistics.map { "out \($0.forwardedOut) acked \($0.acknowledgedOut), in \($0.forwardedIn)" }
print("demo: bridge \(rules.joined(separator: "; "))")
print("demo: \(report)")
