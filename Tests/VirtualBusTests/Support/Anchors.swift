import Foundation

/// Where the team's reference programs (`c_proxy_thr.c`, `seed_virtualbus.py`, ...) live: the
/// `shared/anchors` directory next to the repository, as `vbus-bench` expects it by default.
///
/// A fresh clone elsewhere (CI clones `main` into a directory of its own) finds them through its
/// `origin`, when that is a local checkout. `VBUS_ANCHORS` overrides both.
enum Anchors {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The anchors directory, or a failure naming every place looked at.
    static func directory() throws -> String {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["VBUS_ANCHORS"] {
            candidates.append(URL(fileURLWithPath: explicit))
        }
        for root in [repository, originCheckout].compactMap({ $0 }) {
            var directory = root.deletingLastPathComponent()
            while directory.path != "/" {
                candidates.append(directory.appendingPathComponent("shared/anchors"))
                directory = directory.deletingLastPathComponent()
            }
        }
        let marker = "c_proxy_thr.c"
        if let found = candidates.first(where: {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent(marker).path)
        }) {
            return found.path
        }
        throw NotFound(looked: candidates.map(\.path))
    }

    struct NotFound: Error, CustomStringConvertible {
        let looked: [String]
        var description: String {
            """
            the reference programs (c_proxy_thr.c, ...) were not found: set VBUS_ANCHORS to their directory; \
            looked in \(looked.joined(separator: ", "))
            """
        }
    }

    /// The local checkout this clone was made from, if `origin` is a path.
    private static var originCheckout: URL? {
        guard let config = try? String(contentsOf: repository.appendingPathComponent(".git/config"), encoding: .utf8)
        else { return nil }
        let url = config.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("url = /") }?.dropFirst("url = ".count)
        return url.map { URL(fileURLWithPath: String($0)) }
    }
}
