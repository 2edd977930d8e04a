import Foundation

/// Throw-away certificate authorities, broker certificates and password files in a private
/// directory, made with the openssl and mosquitto_passwd tools, and the mosquitto configuration
/// lines that use them (extra configuration for a `PrivateBroker`). ``remove()`` deletes them: a
/// deferred call, not a `deinit`, which could run after the last use of the value, while a broker or
/// a bridge still has to read the files.
struct BrokerSecrets: Sendable {
    struct ToolFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// A certificate authority: its certificate (what a client trusts) and its key.
    struct Authority {
        let certificate: String
        let key: String
    }

    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vbus-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // mosquitto started as root drops to its own user, which must still read what it is given.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The path of `name` in the directory.
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `text` to `name` (readable by mosquitto) and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return try readable(name)
    }

    /// A new self-signed certificate authority (P-256: quick to make).
    func authority(_ name: String) async throws -> Authority {
        try await Self.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                            "-keyout", path("\(name).key"), "-out", path("\(name).crt"), "-days", "2", "-subj", "/CN=\(name)"])
        return Authority(certificate: try readable("\(name).crt"), key: try readable("\(name).key"))
    }

    /// mosquitto configuration turning its listener into TLS with a certificate for 127.0.0.1
    /// that `authority` signs.
    func tlsListener(signedBy authority: Authority) async throws -> String {
        try await Self.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                            "-keyout", path("broker.key"), "-out", path("broker.crt"), "-days", "2", "-subj", "/CN=localhost",
                            "-CA", authority.certificate, "-CAkey", authority.key,
                            "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=CA:FALSE"])
        return "cafile \(authority.certificate)\ncertfile \(try readable("broker.crt"))\nkeyfile \(try readable("broker.key"))"
    }

    /// mosquitto configuration that admits only `username` with `password`.
    func passwordOnly(username: String, password: String) async throws -> String {
        try await Self.run(["mosquitto_passwd", "-b", "-c", path("passwd"), username, password])
        return "allow_anonymous false\npassword_file \(try readable("passwd"))"
    }

    private func readable(_ name: String) throws -> String {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path(name))
        return path(name)
    }

    /// Runs a tool to its end; a missing tool (env exits 127) or a failure throws with its output.
    private static func run(_ argv: [String]) async throws {
        let tool = try ChildProcess("/usr/bin/env", argv)
        let status = try await tool.exitStatus()
        guard status == 0 else {
            throw ToolFailed(description: "\(argv.joined(separator: " ")) exited with \(status): \(try await tool.transcript())")
        }
    }
}
