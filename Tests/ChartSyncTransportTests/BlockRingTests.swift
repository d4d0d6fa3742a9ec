import ChartSyncBasics
import ChartSyncCore
import ChartSyncTestSupport
import Testing

/// The ring of blocks the bundle writer hands its stream through (write, then hash, each on a thread).
@Suite struct BlockRingTests {
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

}
