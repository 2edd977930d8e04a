/// A small, fast, seeded random number generator (SplitMix64, Steele, Lea & Flood 2014).
///
/// The suite needs its own generator because `SystemRandomNumberGenerator` cannot be seeded and
/// the standard library promises no stable algorithm: a seed printed by a failing run must replay
/// the same choices on any machine and toolchain.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent generator for another thread or task, derived deterministically from this one.
    public mutating func split() -> SplitMix64 {
        SplitMix64(seed: next() ^ 0xD1B5_4A32_D192_ED03)
    }

    /// `true` with probability `probability`.
    public mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < probability
    }
}
