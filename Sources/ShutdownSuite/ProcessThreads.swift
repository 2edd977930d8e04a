#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The names of this process's threads, from `/proc/self/task/*/comm` (Linux; empty elsewhere).
///
/// A diagnostic for failures (which bus threads are still alive) and, in `vbus-bench stress`, where the
/// process runs nothing else, a leak check: no `vbus-*` thread may outlive the buses.
public enum ProcessThreads {
    /// Names of live threads whose name starts with `prefix`, sorted. Threads that carry the
    /// program's own name are left out: a new thread inherits its creator's name, so the main
    /// thread and the runtime's unnamed threads of `vbus-bench` are called `vbus-bench`, a name
    /// the bus never gives.
    public static func names(withPrefix prefix: String = "vbus-") -> [String] {
        guard let directory = opendir("/proc/self/task") else { return [] }
        defer { closedir(directory) }
        let program = read("/proc/self/comm")
        var names: [String] = []
        while let entry = readdir(directory) {
            let task = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !task.hasPrefix("."), let name = read("/proc/self/task/\(task)/comm"), name.hasPrefix(prefix),
                name != program
            else { continue }
            names.append(name)
        }
        return names.sorted()
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let bytes = buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
