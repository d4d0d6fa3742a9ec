import ChartSyncBasics
import ChartSyncCore
import Glibc

/// The bundle reader's raw byte source: the parts of a bundle read in order as one stream,
/// each hashed and counted as it is read and, when expectations are given, proven the moment
/// its end is reached (a part that grows past its expected size fails at once).
///
/// Each part is read straight into the blocks of a ``BackgroundHasher`` and hashed on its thread
/// while libarchive decompresses the same bytes on the caller's: the stream is hashed once (a
/// one-file bundle's digest, which its `.sha256` sidecar lists, is its one part's).
final class BundleInput {
    /// The part files, in order.
    let parts: [String]
    /// What each part must be, or nil for no per-part check.
    private let expected: [BundlePart]?
    /// The index of the part being read.
    private var index = 0
    /// The open part, or -1.
    private var fd: Int32 = -1
    /// The bytes of the current part so far, and their hash (on a thread of its own).
    private var partSize: Int64 = 0
    private let partHasher: BackgroundHasher
    /// The size of everything read.
    private(set) var total: Int64 = 0
    /// The parts read completely, with their actual size and hash.
    private(set) var finishedParts: [BundlePart] = []
    /// Whether the end of the last part was reached.
    private(set) var exhausted = false
    /// The first failure; once set, every read fails.
    private(set) var failure: ArchiveError?
    /// The bytes last read (the last ``next()``'s count of them), handed to libarchive; valid
    /// until the next read.
    private(set) var block: UnsafeRawPointer?

    /// Checks that every part exists (and, with expectations, has its expected size) before anything is read.
    init(parts: [String], expected: [BundlePart]?, name: String, blockSize: Int = 1 << 20) throws(ArchiveError) {
        guard !parts.isEmpty else { throw .invalidBundleRequest(reason: "no bundle file given") }
        if let expected, expected.count != parts.count {
            throw .partCountMismatch(path: name, expected: expected.count, actual: parts.count)
        }
        for (offset, part) in parts.enumerated() {
            var info = stat()
            guard stat(part, &info) == 0 else { throw .cannotReadPart(part: part, message: SystemError.text()) }
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw .cannotReadPart(part: part, message: "not a regular file") }
            if let expected {
                let want = expected[offset].size
                let size = Int64(info.st_size)
                if size < want { throw .truncatedPart(part: part, expectedSize: want, actualSize: size) }
                if size > want { throw .corruptPart(part: part, reason: "expected \(want) bytes, found \(size)") }
            }
        }
        self.parts = parts
        self.expected = expected
        partHasher = BackgroundHasher(blockSize: blockSize, blocks: 4)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// The part being read, or the last one once all were read (for messages).
    var currentPart: String { parts[min(index, parts.count - 1)] }

    /// The SHA-256 of the bundle once it was read to its end, when it is one file (what its
    /// `.sha256` sidecar lists); nil for a bundle in parts (each proven against `FILE.parts`).
    var digest: Digest? { parts.count == 1 ? finishedParts.first?.sha256 : nil }

    /// Reads the next bytes into ``block``: their count, 0 at the end of the last part, or -1 with ``failure`` set.
    func next() -> Int {
        guard failure == nil else { return -1 }
        while index < parts.count {
            let part = parts[index]
            if fd < 0 {
                fd = open(part, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return fail(.cannotReadPart(part: part, message: SystemError.text())) }
            }
            let (bytes, count) = readBlock()
            if count < 0 {
                if errno == EINTR { continue }
                return fail(.cannotReadPart(part: part, message: SystemError.text()))
            }
            if count == 0 {
                guard finishPart() else { return -1 }
                continue
            }
            partSize += Int64(count)
            if let expected, partSize > expected[index].size {
                return fail(.corruptPart(part: part, reason: "expected \(expected[index].size) bytes, found more"))
            }
            block = bytes.baseAddress
            total += Int64(count)
            // A part with an expected size is proven with its last byte, before libarchive sees that byte.
            if let expected, partSize == expected[index].size, !finishPart() { return -1 }
            return count
        }
        exhausted = true
        return 0
    }

    /// Reads and proves everything not read yet (what libarchive did not need after the archive's end).
    func drain() throws(ArchiveError) {
        while true {
            let count = next()
            if count == 0 { return }
            if count < 0 { throw failure! }
        }
    }

    /// Reads the rest of the current part without handing it on, and proves it: after libarchive
    /// failed inside a part, a corrupt part is the better explanation. Nil when the part is good or
    /// there is nothing to check.
    func proveCurrentPart() -> ArchiveError? {
        if let failure { return failure }
        guard let expected, !exhausted, index < parts.count else { return nil }
        let part = parts[index]
        if fd < 0 {
            fd = open(part, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
        }
        while partSize < expected[index].size {
            let count = readBlock().count
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            partSize += Int64(count)
        }
        return finishPart() ? nil : failure
    }

    /// Reads the next bytes of the open part into the hasher's block (they are hashed on its thread).
    private func readBlock() -> (bytes: UnsafeRawBufferPointer, count: Int) {
        partHasher.fill { space in read(fd, space.baseAddress, space.count) }
    }

    /// Closes the current part at its end and proves it.
    private func finishPart() -> Bool {
        var info = stat()
        let onDisk: Int64? = fstat(fd, &info) == 0 ? Int64(info.st_size) : nil
        close(fd)
        fd = -1
        let part = parts[index]
        let actual = BundlePart(file: part, size: partSize, sha256: partHasher.finalize()!)  // nil only when a flush fails; none is given
        if let expected {
            let want = expected[index]
            if let onDisk, onDisk > want.size {
                return fail(.corruptPart(part: part, reason: "expected \(want.size) bytes, found \(onDisk)")) >= 0
            }
            if actual.size < want.size {
                return fail(.truncatedPart(part: part, expectedSize: want.size, actualSize: actual.size)) >= 0
            }
            if actual.sha256 != want.sha256 {
                return fail(.corruptPart(part: part, reason: "expected sha256 \(want.sha256.hex), got \(actual.sha256.hex)")) >= 0
            }
        }
        finishedParts.append(actual)
        index += 1
        partSize = 0
        return true
    }

    /// Records the failure; returns -1.
    private func fail(_ error: ArchiveError) -> Int {
        failure = error
        partHasher.reset()
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        return -1
    }
}
