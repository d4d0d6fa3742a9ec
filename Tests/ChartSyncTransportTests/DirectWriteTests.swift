import ChartSyncBasics
import ChartSyncTestSupport
import Foundation
import Glibc
import Testing

/// A file written through DirectWrite holds exactly the bytes given, however they are aligned:
/// whole pages go around the page cache, the rest through it.
@Suite struct DirectWriteTests {
    /// Writes `bytes` in `chunks` (sizes, in order) from page-aligned memory shifted by `shift`
    /// bytes; returns the file's bytes and whether the last write was still direct.
    private func write(_ bytes: [UInt8], chunks: [Int], shift: Int = 0) throws -> (file: [UInt8], direct: Bool) {
        let temp = try TemporaryDirectory(prefix: "chartsync-direct")
        let path = temp.file("file")
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: bytes.count + shift + 1, alignment: DirectWrite.alignment)
        defer { memory.deallocate() }
        bytes.withUnsafeBytes { (memory + shift).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        var writer = DirectWrite(fd: fd)
        var offset = 0
        for chunk in chunks {
            try writer.write(UnsafeRawBufferPointer(start: memory + shift + offset, count: chunk))
            offset += chunk
        }
        #expect(offset == bytes.count)
        #expect(writer.written == Int64(bytes.count))
        #expect(fsync(fd) == 0)
        return ([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), writer.direct)
    }

    @Test("whole pages, then a tail of less than a page", arguments: [
        [4096], [1 << 20, 1 << 20, 12_345], [4096 * 3 + 1], [1], [8192, 100], [65_536, 4095],
    ])
    func alignedThenTail(chunks: [Int]) throws {
        let bytes = testBytes(count: chunks.reduce(0, +), seed: UInt64(chunks.count))
        let (file, direct) = try write(bytes, chunks: chunks)
        #expect(file == bytes)
        // A write with a tail ends through the page cache.
        if chunks.last! % DirectWrite.alignment != 0 { #expect(!direct) }
    }

    @Test("memory or offsets off the page boundary go through the page cache, and stay correct")
    func unaligned() throws {
        let bytes = testBytes(count: 3 * 4096 + 777, seed: 11)
        #expect(try write(bytes, chunks: [bytes.count], shift: 1).file == bytes)
        #expect(try write(bytes, chunks: [100, 4096, bytes.count - 4196]).file == bytes)
        #expect(try write(bytes, chunks: [4096, 4096, 4096 + 777], shift: 8).file == bytes)
    }

    @Test("a write that fails throws its errno")
    func failure() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-direct")
        let path = try temp.write("file", [])
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        var writer = DirectWrite(fd: fd)
        let bytes = testBytes(count: 100)
        #expect(throws: SystemCallError(code: EBADF)) {
            try bytes.withUnsafeBytes { try writer.write($0) }
        }
    }
}
