import ChartSyncBasics
import ChartSyncCore
import ChartSyncTestSupport
import struct Crypto.SHA256
import Testing

/// The SHA-256 hashed on its own thread equals the one hashed in place, however the bytes come.
@Suite struct BackgroundHasherTests {
    static func reference(_ bytes: [UInt8]) -> Digest {
        Digest(bytes: SHA256.hash(data: bytes))
    }

    @Test("any chunking of any length gives the plain SHA-256", arguments: [
        (0, 7), (1, 1), (4095, 100), (4096, 4096), (4097, 4096), (20_000, 3), (100_000, 4096 * 3 + 1), (300_000, 65_536),
    ])
    func chunkings(length: Int, chunk: Int) {
        let bytes = testBytes(count: length, seed: UInt64(length))
        let hasher = BackgroundHasher(blockSize: 4096, blocks: 3)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            bytes[offset..<end].withUnsafeBytes { hasher.update($0) }
            offset = end
        }
        #expect(hasher.finalize() == Self.reference(bytes))
    }

    @Test("reset forgets what was given (also blocks on the thread); finalize starts a new stream")
    func resetAndReuse() {
        let first = testBytes(count: 50_000, seed: 1)
        let second = testBytes(count: 30_001, seed: 2)
        let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
        first.withUnsafeBytes { hasher.update($0) }
        hasher.reset()
        second.withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize() == Self.reference(second))
        first.withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize() == Self.reference(first))
        #expect(hasher.finalize() == Self.reference([]))
    }

    @Test("every byte goes to flush once, in order, in whole blocks but the last, before finalize answers")
    func flushedBlocks() {
        let bytes = testBytes(count: 4096 * 5 + 123, seed: 9)
        let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
        var flushed: [[UInt8]] = []
        let keep = { (block: UnsafeRawBufferPointer) -> Bool in flushed.append(Array(block)); return true }
        for offset in stride(from: 0, to: bytes.count, by: 1000) {
            let ok = bytes[offset..<min(bytes.count, offset + 1000)].withUnsafeBytes { hasher.update($0, flush: keep) }
            #expect(ok)
        }
        #expect(flushed.count == 5 && flushed.allSatisfy { $0.count == 4096 })
        #expect(hasher.finalize(flush: keep) == Self.reference(bytes))
        #expect(flushed.count == 6 && Array(flushed.joined()) == bytes)
    }

    @Test("a failing flush stops update, and at the end gives no digest")
    func failingFlush() {
        let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
        let ok = testBytes(count: 10_000).withUnsafeBytes { hasher.update($0, flush: { _ in false }) }
        #expect(!ok)
        hasher.reset()
        testBytes(count: 100).withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize(flush: { _ in false }) == nil)
        #expect(hasher.finalize() == Self.reference([]))
    }

    @Test("fill puts the bytes straight into the blocks: the same hash and blocks as update", arguments: [0, 100, 4096, 4096 * 5 + 123])
    func filled(length: Int) {
        let bytes = testBytes(count: length, seed: 5)
        let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
        var flushed: [[UInt8]] = []
        let keep = { (block: UnsafeRawBufferPointer) -> Bool in flushed.append(Array(block)); return true }
        var offset = 0
        while true {
            // At most 1000 bytes at a time, as a short read(2) would give them.
            let count = hasher.fill({ free in
                let n = min(free.count, 1000, bytes.count - offset)
                bytes[offset..<(offset + n)].withUnsafeBytes { free.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
                return n
            }, flush: keep)
            guard let count, count > 0 else {
                #expect(count == 0)
                break
            }
            offset += count
        }
        #expect(flushed.allSatisfy { $0.count == 4096 } && flushed.count == length / 4096)
        #expect(hasher.finalize(flush: keep) == Self.reference(bytes))
        #expect(Array(flushed.joined()) == bytes)
    }

    /// What a ring's `consume` saw, on the ring's thread.
    final class Consumed: @unchecked Sendable {
        var blocks: [[UInt8]] = []
        var failAt: Int?
        func take(_ block: UnsafeRawBufferPointer) -> Bool {
            if blocks.count == failAt { return false }
            blocks.append(Array(block))
            return true
        }
    }

    @Test("a BlockRing gives every block to consume once, in order, before finish returns, short streams included",
          arguments: [0, 10, 4096, 4096 * 7 + 5])
    func ringConsumes(length: Int) {
        let bytes = testBytes(count: length, seed: 7)
        let consumed = Consumed()
        let ring = BlockRing(blockSize: 4096, blocks: 2) { consumed.take($0) }
        for offset in stride(from: 0, to: bytes.count, by: 999) {
            let ok = bytes[offset..<min(bytes.count, offset + 999)].withUnsafeBytes { ring.append($0) }
            #expect(ok)
        }
        #expect(ring.finish())
        #expect(Array(consumed.blocks.joined()) == bytes && consumed.blocks.dropLast().allSatisfy { $0.count == 4096 })
    }

    @Test("with two stages every block goes through the first, then the second, in order", arguments: [0, 10, 4096 * 9 + 7])
    func ringStages(length: Int) {
        let bytes = testBytes(count: length, seed: 8)
        let (first, second) = (Consumed(), Consumed())
        let ring = BlockRing(blockSize: 4096, blocks: 3, stages: [{ first.take($0) }, { second.take($0) }])
        for offset in stride(from: 0, to: bytes.count, by: 1500) {
            let ok = bytes[offset..<min(bytes.count, offset + 1500)].withUnsafeBytes { ring.append($0) }
            #expect(ok)
        }
        #expect(ring.finish())
        #expect(Array(first.blocks.joined()) == bytes && first.blocks == second.blocks)
        // A failing first stage keeps the blocks after it from both stages (the second may skip
        // the ones before it too: the stream failed).
        first.blocks = []
        second.blocks = []
        first.failAt = 1
        var ok = true
        for offset in stride(from: 0, to: bytes.count, by: 4096) where ok {
            ok = bytes[offset..<min(bytes.count, offset + 4096)].withUnsafeBytes { ring.append($0) }
        }
        if length > 4096 {
            #expect(!ok || !ring.finish())
            #expect(first.blocks.count == 1 && second.blocks.count <= 1)
        }
        ring.reset()
    }

    @Test("a failing consume makes append or finish fail and drops the blocks after it; reset starts over")
    func ringFailingConsume() {
        let consumed = Consumed()
        consumed.failAt = 2
        let ring = BlockRing(blockSize: 4096, blocks: 2) { consumed.take($0) }
        let bytes = testBytes(count: 4096 * 10, seed: 3)
        var ok = true
        for offset in stride(from: 0, to: bytes.count, by: 4096) where ok {
            ok = bytes[offset..<(offset + 4096)].withUnsafeBytes { ring.append($0) }
        }
        #expect(!ok || !ring.finish())
        #expect(consumed.blocks.count == 2)
        ring.reset()
        consumed.blocks = []
        consumed.failAt = nil
        bytes.withUnsafeBytes { #expect(ring.append($0)) }
        #expect(ring.finish())
        #expect(Array(consumed.blocks.joined()) == bytes)
    }

    @Test("a hasher dropped mid-stream stops its thread")
    func dropped() {
        for _ in 0..<50 {
            let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
            testBytes(count: 20_000).withUnsafeBytes { hasher.update($0) }
        }
    }
}
