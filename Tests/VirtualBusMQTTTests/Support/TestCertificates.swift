import Foundation

/// A throw-away CA, a server certificate for 127.0.0.1 and a client certificate, made with the
/// openssl CLI for the TLS tests.
struct TestCertificates {
    let directory: URL
    var ca: String { directory.appendingPathComponent("ca.crt").path }
    var serverCert: String { directory.appendingPathComponent("server.crt").path }
    var serverKey: String { directory.appendingPathComponent("server.key").path }
    var clientCert: String { directory.appendingPathComponent("client.crt").path }
    var clientKey: String { directory.appendingPathComponent("client.key").path }

    static func make() throws -> TestCertificates {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vbus-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        let run = { (argv: [String]) in try MosquittoBroker.tool(argv, in: dir) }
        try run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                 "-days", "2", "-subj", "/CN=vbus test CA"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(to: dir.appendingPathComponent("san.ext"), atomically: true, encoding: .utf8)
        for name in ["server", "client"] {
            try run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr",
                     "-subj", "/CN=\(name == "server" ? "localhost" : "vbus-client")"])
            try run(["openssl", "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "\(name).crt", "-days", "2", "-extfile", "san.ext"])
        }
        // mosquitto drops root privileges: let it read the (throw-away) keys.
        for file in ["ca.crt", "server.crt", "server.key", "client.crt", "client.key"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.appendingPathComponent(file).path)
        }
        return TestCertificates(directory: dir)
    }

    func listenerConfig(requireClientCertificate: Bool) -> String {
        """
        cafile \(ca)
        certfile \(serverCert)
        keyfile \(serverKey)
        require_certificate \(requireClientCertificate)
        """
    }
}
