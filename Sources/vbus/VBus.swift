import ArgumentParser

@main
struct VBus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vbus",
        abstract: "A ZeroMQ virtual message bus with an MQTT bridge.",
        subcommands: []
    )
}
