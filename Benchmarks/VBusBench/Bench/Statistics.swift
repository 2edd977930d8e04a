/// Small statistics helpers for benchmark reports.
enum Stats {
    static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty)
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }

    /// The value below which `fraction` of the samples fall (nearest rank).
    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        precondition(!values.isEmpty)
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}

extension Double {
    /// A number with `digits` decimals, without Foundation's formatters.
    func formatted(decimals digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (self * scale).rounded()
        let integer = Int(scaled / scale)
        guard digits > 0 else { return "\(integer)" }
        var fraction = "\(Int(abs(scaled).truncatingRemainder(dividingBy: scale)))"
        while fraction.count < digits { fraction = "0" + fraction }
        return "\(self < 0 && integer == 0 ? "-" : "")\(integer).\(fraction)"
    }

    /// Messages per second as a short human figure (e.g. `1.23 M/s`).
    var rateDescription: String {
        if self >= 1_000_000 { return "\((self / 1_000_000).formatted(decimals: 2)) M/s" }
        if self >= 1_000 { return "\((self / 1_000).formatted(decimals: 1)) k/s" }
        return "\(self.formatted(decimals: 0)) /s"
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (benchmarks' rates and reports).
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
