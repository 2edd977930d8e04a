import ArgumentParser

@main
struct VBus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vbus",
        abstract: "A ZeroMQ virtual message bus with an MQTT bridge.",
        subcommands: [
            ProxyCommand.self, PubCommand.self, SubCommand.self, StatsCommand.self, ControlCommand.self,
            KeygenCommand.self, BridgeCommand.self,
        ]
    )
}
