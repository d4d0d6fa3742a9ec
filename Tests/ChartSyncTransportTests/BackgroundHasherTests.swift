import ChartSyncBasics
import ChartSyncCore
import ChartSyncTestSupport
import Glibc
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

    @Test("fill hashes what is read into its blocks, and what it returns stays intact until the next fill", arguments: [
        (0, 1000), (1, 1), (4095, 1000), (4096, 4096), (4097, 5000), (50_000, 3000), (100_000, 4096 * 3 + 1),
    ])
    func filled(length: Int, chunk: Int) {
        let bytes = testBytes(count: length, seed: UInt64(length) + 7)
        let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
        var offset = 0
        var previous: (bytes: UnsafeRawBufferPointer, expected: ArraySlice<UInt8>)?
        while true {
            let (given, count) = hasher.fill { space in
                // The bytes the last fill returned are still there while the next one writes.
                if let previous { #expect(Array(previous.bytes) == Array(previous.expected)) }
                let count = min(space.count, chunk, bytes.count - offset)
                if count > 0 {
                    bytes.withUnsafeBytes { space.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
                }
                return count
            }
            #expect(given.count == max(0, count))
            if count <= 0 { break }
            #expect(Array(given) == Array(bytes[offset..<offset + count]))
            previous = (given, bytes[offset..<offset + count])
            offset += count
        }
        #expect(offset == bytes.count)
        #expect(hasher.finalize() == Self.reference(bytes))
    }

    @Test("a stream's sink gets every block once, in order, on the hashing thread, and the digest stays the stream's",
          arguments: [(0, 1000), (100, 7), (4096, 4096), (4096 * 7 + 5, 1000), (100_000, 65_536)])
    func sink(length: Int, chunk: Int) {
        let bytes = testBytes(count: length, seed: UInt64(length) + 3)
        let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
        let producer = pthread_self()
        var sunk: [[UInt8]] = []
        var elsewhere = 0
        hasher.reset(sink: { block in
            sunk.append(Array(block))
            if pthread_equal(pthread_self(), producer) == 0 { elsewhere += 1 }
            return true
        })
        for offset in stride(from: 0, to: bytes.count, by: chunk) {
            let ok = bytes[offset..<min(bytes.count, offset + chunk)].withUnsafeBytes { hasher.update($0) }
            #expect(ok)
        }
        #expect(hasher.finalize() == Self.reference(bytes))
        #expect(Array(sunk.joined()) == bytes)
        #expect(sunk.dropLast().allSatisfy { $0.count == 4096 })
        // A stream of a block or more is hashed, and sunk, on the hasher's thread.
        #expect((elsewhere > 0) == (length >= 4096))
        // The stream ended: the next one has no sink.
        let count = sunk.count
        testBytes(count: 20_000).withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize() == Self.reference(testBytes(count: 20_000)))
        #expect(sunk.count == count)
    }

    @Test("a failing sink drops the stream's later blocks: update answers false, finalize nil; the next stream is whole")
    func failingSink() {
        for length in [100, 50_000] {
            let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
            var calls = 0
            hasher.reset(sink: { _ in
                calls += 1
                return false
            })
            var ok = true
            testBytes(count: length).withUnsafeBytes { bytes in
                for offset in stride(from: 0, to: bytes.count, by: 1000) where ok {
                    ok = hasher.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<min(bytes.count, offset + 1000)]))
                }
            }
            #expect(hasher.finalize() == nil)
            #expect(calls == 1, "only the first block reached the sink")
            #expect(ok == (length <= 4096), "update learns of the failure at a later hand-over")
            let again = testBytes(count: 30_000, seed: 5)
            again.withUnsafeBytes { hasher.update($0) }
            #expect(hasher.finalize() == Self.reference(again))
        }
    }

    @Test("reset drops the blocks not hashed yet: none reaches the old stream's sink once it returns")
    func resetStopsTheSink() {
        let hasher = BackgroundHasher(blockSize: 4096, blocks: 4)
        let gate = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let entered = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        pthread_mutex_init(gate, nil)
        sem_init(entered, 0, 0)
        defer {
            pthread_mutex_destroy(gate)
            sem_destroy(entered)
            gate.deallocate()
            entered.deallocate()
        }
        var sunk = 0
        var closed = false
        var lateBlocks = 0
        hasher.reset(sink: { _ in
            // The first block waits in the sink until the producer has handed over two more.
            if sunk == 0 { sem_post(entered) }
            pthread_mutex_lock(gate)
            pthread_mutex_unlock(gate)
            if closed { lateBlocks += 1 }
            sunk += 1
            return true
        })
        pthread_mutex_lock(gate)
        testBytes(count: 4096 * 3).withUnsafeBytes { hasher.update($0) }
        sem_wait(entered)
        pthread_mutex_unlock(gate)
        hasher.reset()
        closed = true
        // The first block went through; the other two did or were dropped, but none comes later.
        #expect(sunk >= 1 && sunk <= 3)
        testBytes(count: 4096 * 3).withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize() == Self.reference(testBytes(count: 4096 * 3)))
        #expect(lateBlocks == 0)
    }

    @Test("a hasher dropped mid-stream stops its thread")
    func dropped() {
        for _ in 0..<50 {
            let hasher = BackgroundHasher(blockSize: 4096, blocks: 2)
            testBytes(count: 20_000).withUnsafeBytes { hasher.update($0) }
        }
    }
}
