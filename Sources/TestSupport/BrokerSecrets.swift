import ConcurrencyPrimitives
public import Foundation
import ProcessSpawning

/// Throw-away certificate authorities, broker certificates and password files in a private
/// directory, made with the openssl and mosquitto_passwd tools, and the mosquitto configuration
/// lines that use them (extra configuration for a `PrivateBroker`). ``remove()`` deletes them: a
/// deferred call, not a `deinit`, which could run after the last use of the value, while a broker or
/// a bridge still has to read the files.
///
/// Test support shared by the test targets (which cannot depend on one another); not a product.
public struct BrokerSecrets: Sendable {
    public struct ToolFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// A certificate authority: its certificate (what a client trusts) and its key.
    public struct Authority: Sendable {
        public let certificate: String
        public let key: String
    }

    /// A client's certificate and key, for mutual TLS.
    public struct ClientIdentity: Sendable {
        public let certificate: String
        public let key: String
    }

    public let directory: URL

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vbus-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // mosquitto started as root drops to its own user, which must still read what it is given.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The path of `name` in the directory.
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `text` to `name` (readable by mosquitto) and returns its path.
    public func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return try readable(name)
    }

    /// A new self-signed certificate authority (P-256: quick to make).
    public func authority(_ name: String) async throws -> Authority {
        try await Self.run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("\(name).key"), "-out", path("\(name).crt"), "-days", "2", "-subj", "/CN=\(name)",
        ])
        return Authority(certificate: try readable("\(name).crt"), key: try readable("\(name).key"))
    }

    /// mosquitto configuration turning its listener into TLS with a certificate for 127.0.0.1
    /// that `authority` signs; with `requireClientCertificate`, clients must present one that
    /// `authority` signed too.
    public func tlsListener(signedBy authority: Authority, requireClientCertificate: Bool = false) async throws
        -> String
    {
        try await Self.run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("broker.key"), "-out", path("broker.crt"), "-days", "2", "-subj", "/CN=localhost",
            "-CA", authority.certificate, "-CAkey", authority.key,
            "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=CA:FALSE",
        ])
        return
            """
            cafile \(authority.certificate)\ncertfile \(try readable("broker.crt"))\nkeyfile \
            \(try readable("broker.key"))
            """
                + "\nrequire_certificate \(requireClientCertificate)"
    }

    /// A client certificate that `authority` signs.
    public func clientIdentity(signedBy authority: Authority) async throws -> ClientIdentity {
        try await Self.run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("client.key"), "-out", path("client.crt"), "-days", "2", "-subj", "/CN=vbus-client",
            "-CA", authority.certificate, "-CAkey", authority.key, "-addext", "basicConstraints=CA:FALSE",
        ])
        return ClientIdentity(certificate: try readable("client.crt"), key: try readable("client.key"))
    }

    /// mosquitto configuration that admits only `username` with `password`.
    public func passwordOnly(username: String, password: String) async throws -> String {
        try await Self.run(["mosquitto_passwd", "-b", "-c", path("passwd"), username, password])
        return "allow_anonymous false\npassword_file \(try readable("passwd"))"
    }

    private func readable(_ name: String) throws -> String {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path(name))
        return path(name)
    }

    /// Runs a tool to its end; a missing tool (env exits 127), a failure or a minute without an
    /// end throws with its output. It runs, and is waited for, on a thread of its own: never on
    /// one of Swift's few cooperative threads.
    private static func run(_ argv: [String]) async throws {
        // One pipe for both streams (the shell merges them), read to its end before the exit
        // status: a full pipe can never stall the tool.
        let tool = try SpawnedProcess(
            executable: "/bin/sh", arguments: ["-c", "exec \"$@\" 2>&1", "sh", "/usr/bin/env"] + argv)
        let finished = await ThreadWork(name: "test-tool") {
            let output = String(decoding: SpawnedProcess.readAll(tool.standardOutput!), as: UTF8.self)
            return (status: tool.waitForExit(), output: output)
        }.value(before: .now + .seconds(60))
        guard let (status, output) = finished else {
            kill(tool.pid, SIGKILL)  // not tool.send: the waiting thread may hold the process's lock
            throw ToolFailed(description: "\(argv.joined(separator: " ")) did not end within 60 s")
        }
        guard status == 0 else {
            throw ToolFailed(description: "\(argv.joined(separator: " ")) exited with \(status): \(output)")
        }
    }
}
