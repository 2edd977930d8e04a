import ArgumentParser
import Foundation
import VirtualBus

/// `vbus keygen`: a CURVE key pair in two files; the secret is never printed.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a CURVE key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub."
    )

    @Option(name: .long, help: "Path prefix of the two key files.") var out: String

    func run() throws {
        let keys = try CurveKeyPair.generate()
        let secretPath = out + ".key", publicPath = out + ".pub"
        guard
            FileManager.default.createFile(
                atPath: secretPath, contents: Data((keys.secretKey + "\n").utf8), attributes: [.posixPermissions: 0o600]
            )
        else {
            throw ValidationError("cannot write \(secretPath)")
        }
        try (keys.publicKey + "\n").write(toFile: publicPath, atomically: true, encoding: .utf8)
        Output.line("public key: \(keys.publicKey)")
        Output.line("wrote \(secretPath) (secret, 0600) and \(publicPath)")
    }
}
