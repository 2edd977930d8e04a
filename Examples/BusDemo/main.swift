// A small multi-component app on one VirtualBus: sensors publish readings, a controller turns
// readings into fan commands, a logger prints everything. Ctrl-C (or --seconds) shuts it down in
// order and prints the shutdown report.
import Logging
import ServiceLifecycle
import VirtualBus

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
let seconds = arguments.firstIndex(of: "--seconds").flatMap { Int(arguments[$0 + 1]) }
if arguments.contains("--help") {
    print("usage: BusDemo [--seconds N]   (runs until Ctrl-C without --seconds)")
    exit(0)
}

let bus = try VirtualBus()
let components: [any Service] = [
    SensorComponent(bus: bus, name: "boiler", base: 60),
    SensorComponent(bus: bus, name: "attic", base: 25),
    try await ControllerComponent(bus: bus, threshold: 62),
    try await LoggerComponent(bus: bus),
]
var services: [ServiceGroupConfiguration.ServiceConfiguration] = components.map { .init(service: $0) }
// The bus comes first: a ServiceGroup shuts services down in reverse order, so the components
// stop before the bus runs its ordered shutdown.
services.insert(.init(service: bus), at: 0)
if let seconds { services.append(.init(service: StopAfter(duration: .seconds(seconds)), successTerminationBehavior: .gracefullyShutdownGroup)) }
var logger = Logger(label: "BusDemo")
logger.logLevel = .info
let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigint, .sigterm], logger: logger))
print("demo: running\(seconds.map { " for \($0) s" } ?? " until Ctrl-C")")
try await group.run()
let report = await bus.shutdown()
print("demo: \(report)")
