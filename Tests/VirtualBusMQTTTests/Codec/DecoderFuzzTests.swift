import Foundation
import NIOCore
import Testing
import TestSupport
@testable import VirtualBusMQTT

/// The decoder is fed random and mutated bytes; it must return a packet, nil or a thrown
/// ``MQTTError`` — never trap, never loop. Each seed is 500,000 inputs per test: 3,000,000 inputs
/// in CI with the 3 fixed seeds, more with `MQTT_FUZZ_SEEDS=N` (`make fuzz` runs 20 seeds).
// Serialized: the time limit (which catches a decoder that loops) is per test case, and cases
// running side by side on a small machine would share its cores and measure each other.
@Suite("Decoder fuzz", .serialized)
struct DecoderFuzzTests {
    static let inputsPerSeed = 500_000
    static let seeds: [UInt64] = (1...max(3, Int(ProcessInfo.processInfo.environment["MQTT_FUZZ_SEEDS"] ?? "") ?? 3))
        .map { 0x5EED_0000 + UInt64($0) }

    /// Decodes until the buffer is exhausted, incomplete or an error is thrown.
    static func drain(_ decoder: MQTTPacketDecoder, _ bytes: [UInt8]) -> (packets: Int, errors: Int) {
        var buffer = ByteBuffer(bytes: bytes)
        var packets = 0
        while true {
            do {
                guard try decoder.decode(buffer: &buffer) != nil else { return (packets, 0) }
                packets += 1
            } catch {
                return (packets, 1)
            }
        }
    }

    @Test("500,000 random byte strings per seed decode without crashing", .timeLimit(.minutes(1)), arguments: seeds)
    func randomBytes(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var errors = 0
        for i in 0..<Self.inputsPerSeed {
            let version: MQTTProtocolVersion = i & 1 == 0 ? .v5 : .v3_1_1
            let length = Int(rng.next() % 48)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Half the inputs get a plausible fixed header so the body parsers are reached.
            if i & 2 == 0, length >= 2 { bytes[1] = UInt8(length - 2) }
            errors += Self.drain(MQTTPacketDecoder(version: version), bytes).errors
        }
        #expect(errors > 0)
    }

    @Test("500,000 mutated valid packets per seed decode without crashing", .timeLimit(.minutes(1)), arguments: seeds)
    func mutatedPackets(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var corpus: [(MQTTProtocolVersion, [UInt8])] = []
        for version in [MQTTProtocolVersion.v3_1_1, .v5] {
            var encoder = MQTTPacketEncoder(version: version)
            for packet in CodecRoundTripTests.samples(version) {
                var b = ByteBuffer()
                try encoder.encode(packet, into: &b)
                if b.readableBytes < 4_096 { corpus.append((version, Array(b.readableBytesView))) }
            }
        }
        var decoded = 0
        for _ in 0..<Self.inputsPerSeed {
            let (version, original) = corpus[Int(rng.next() % UInt64(corpus.count))]
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let position = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[position] ^= UInt8(1) << (rng.next() % 8)
                case 2: bytes.remove(at: position)
                default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            decoded += Self.drain(MQTTPacketDecoder(version: version), bytes).packets
        }
        #expect(decoded > 0)
    }
}
