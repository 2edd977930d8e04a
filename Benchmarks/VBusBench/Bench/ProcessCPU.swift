import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// CPU time (user + system) from `getrusage`: of this process, or of the child processes it has
/// waited for. Benchmarks report it per message next to throughput: on a machine where the
/// broker and both clients share the cores, CPU per message is the steadier figure.
enum ProcessCPU {
    static var ownSeconds: Double { seconds(RUSAGE_SELF.rawValue) }
    static var childrenSeconds: Double { seconds(RUSAGE_CHILDREN.rawValue) }

    /// CPU time of another running process (user + system, from `/proc/PID/stat`, in clock
    /// ticks of 10 ms), or nil when it cannot be read.
    static func seconds(ofProcess pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func seconds(_ who: Int32) -> Double {
        var usage = rusage()
        getrusage(who, &usage)
        func value(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return value(usage.ru_utime) + value(usage.ru_stime)
    }
}
