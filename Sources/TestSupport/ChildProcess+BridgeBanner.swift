extension ChildProcess {
    /// The bus endpoints of a `vbus bridge` started with `--frontend` and `--backend`, from the
    /// banner it writes on standard output (`vbus bridge: HOST:PORT mqtt 5, N rule(s), bus
    /// frontend=... backend=...`).
    public func bridgeEndpoints() async throws -> (frontend: String, backend: String) {
        let banner = try await nextLine { $0.hasPrefix("vbus bridge:") && $0.contains("frontend=") }
        func endpoint(_ field: String) throws -> String {
            guard let value = banner.split(separator: " ").first(where: { $0.hasPrefix("\(field)=") }) else {
                throw ChildProcessFailure(description: "\(name): no \(field)= in its banner: \(banner)")
            }
            return String(value.dropFirst(field.count + 1))
        }
        return (try endpoint("frontend"), try endpoint("backend"))
    }
}
