public import ArgumentParser
import Foundation
public import VirtualBus

/// CURVE options of a client command (pub, sub).
struct CurveClientOptions: ParsableArguments {
    @Option(name: .customLong("curve-server-public"), help: "File with the bus's CURVE public key.")
    var serverPublicKeyFile: String?
    @Option(name: .customLong("curve-secret"), help: "File with this client's CURVE secret key.")
    var secretKeyFile: String?

    func apply(to configuration: inout BusConfiguration) throws {
        switch (serverPublicKeyFile, secretKeyFile) {
        case (nil, nil):
            return
        case (let server?, let secret?):
            configuration.curveClient = CurveClientSecurity(
                serverPublicKey: try KeyFile.read(server),
                keys: try CurveKeyPair(secretKey: try KeyFile.read(secret))
            )
        default:
            throw ValidationError("--curve-server-public and --curve-secret go together")
        }
    }
}

/// Key files: one Z85 key per line; `#` starts a comment. Secret keys are read, never printed.
enum KeyFile {
    static func read(_ path: String) throws -> String {
        guard let key = try lines(path).first else { throw ValidationError("\(path) holds no key") }
        return key
    }

    static func lines(_ path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read \(path)")
        }
        return text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

extension BusEndpoint: ExpressibleByArgument {
    public init?(argument: String) {
        guard let endpoint = try? BusEndpoint(parsing: argument) else { return nil }
        self = endpoint
    }
}
