import ChartSyncBasics
import ChartSyncCore
import struct Crypto.SHA256
import Glibc

/// Where the bundle writer's compressed stream goes: one file, or parts of exactly `splitSize`
/// bytes (the last one shorter). Every file is written under a temporary name beside its final
/// one, hashed as it is written, and only renamed into place by ``commit()``; ``discard()``
/// removes everything this object created. The bytes are gathered into blocks of 64 KiB, which a
/// thread of their own (a ``BlockRing`` stage) writes, one write(2) each, and queues for writeback
/// (``Writeback``: the fsync at the end of a part finds little left to do), and the next stage
/// hashes, while the caller compresses the next ones. Small blocks are still in the caches when
/// they are copied into the page cache and hashed: with blocks of 1 MiB, writing and hashing needed
/// twice the CPU time (measured on 2 GiB of image layers). 128 of them (8 MiB) are in flight: on a
/// busy machine a thread waits for a core for milliseconds at a time, and with 2 MiB the others
/// then stalled (the bundle took 1.2x as long with 2 MiB in flight at a load of 7 on 2 cores).
final class BundleOutput {
    /// The bundle's path as the caller gave it (the part paths are `path.000`, … when split).
    let path: String
    /// The directory holding the bundle (owned by this object).
    private let directory: Int32
    /// The last component of `path`.
    private let base: String
    /// The size of each part, nil for one file.
    private let splitSize: Int64?

    /// The part being written: its descriptor, temporary name and size so far (the bytes given;
    /// the last of them may still wait in `blocks`).
    private var current: (fd: Int32, temporary: String, size: Int64)?
    /// Where `blocks`' thread writes and hashes the current part's bytes.
    private let file = PartFile()
    /// The current part's bytes on their way to `file`.
    private let blocks: BlockRing
    /// The parts written completely: temporary name, final name, description.
    private var finished: [(temporary: String, final: String, part: BundlePart)] = []
    /// Every temporary name created (removed by discard unless renamed).
    private var temporaries: [String] = []
    /// The final names renamed into place so far (removed by discard).
    private var renamed: [String] = []
    /// The hash of the whole stream, when split (otherwise the one part's hash is the whole's).
    private var whole = SHA256()
    private var total: Int64 = 0

    /// The first failure; once set, every write fails.
    private(set) var failure: ArchiveError?

    /// Opens the directory of `path` and checks that neither `path` nor any `path.NNN` exists.
    init(path: String, splitSize: Int64?) throws(ArchiveError) {
        let file = file
        blocks = BlockRing(blockSize: 64 << 10, blocks: 128, stages: [{ file.write($0) }, { file.hash($0) }])
        self.path = path
        self.splitSize = splitSize
        let (parent, base) = DirectoryFD.splitPath(path)
        guard !base.isEmpty, base != ".", base != "..", base != "/" else {
            throw .cannotWriteBundle(path: path, message: "the path must end in a file name")
        }
        self.base = base
        directory = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw .cannotWriteBundle(path: path, message: "cannot open its directory: \(SystemError.text())") }
        guard let names = DirectoryFD.names(in: directory) else {
            let message = SystemError.text()
            close(directory)
            throw .cannotWriteBundle(path: path, message: "cannot list its directory: \(message)")
        }
        for raw in names {
            let name = String(decoding: raw, as: UTF8.self)
            if isBundleName(name) {
                close(directory)
                throw .bundleExists(path: path, name: name == base ? path : join(parent, name))
            }
        }
    }

    deinit {
        blocks.reset()
        if let current { close(current.fd) }
        close(directory)
    }

    /// Whether `name` is the bundle's file or one of its parts (`base.` followed by digits).
    private func isBundleName(_ name: String) -> Bool {
        if name == base { return true }
        guard name.hasPrefix(base + ".") else { return false }
        let suffix = name.utf8.dropFirst(base.utf8.count + 1)
        return suffix.count >= 3 && suffix.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// `name` inside the directory of `parent`, as a path for messages and results.
    private func join(_ parent: String, _ name: String) -> String {
        parent == "." && !path.hasPrefix("./") ? name : (parent == "/" ? "/" + name : parent + "/" + name)
    }

    /// The final name of part `index` (the bundle's own name when not split).
    private func finalName(_ index: Int) -> String {
        guard splitSize != nil else { return base }
        let digits = String(index)
        return base + "." + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// The path of part `index` as the caller sees it.
    private func partPath(_ index: Int) -> String {
        guard splitSize != nil else { return path }
        return path + finalName(index).dropFirst(base.count)
    }

    /// Appends `bytes` to the stream, starting new parts as needed; false (with ``failure`` set) on failure.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil else { return false }
        var offset = 0
        while offset < bytes.count {
            if current == nil, !startPart() { return false }
            var part = current!
            var count = bytes.count - offset
            if let splitSize { count = Int(min(Int64(count), splitSize - part.size)) }
            let block = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
            guard blocks.append(block) else {
                failure = .cannotWriteBundle(path: partPath(finished.count), message: file.error ?? "cannot write")
                return false
            }
            part.size += Int64(count)
            if splitSize != nil { whole.update(bufferPointer: block) }
            total += Int64(count)
            offset += count
            current = part
            if let splitSize, part.size == splitSize, !finishPart() { return false }
        }
        return true
    }

    /// The file of the part being written, as `blocks`' stages write and hash it: the producer sets
    /// it up and reads `sha` and `error` only while no block is in flight (before the first, after
    /// `finish` or `reset`), or `error` after `append` failed. The writing stage touches `fd`,
    /// `written`, `writeback` and `error`, the hashing stage `sha`.
    private final class PartFile: @unchecked Sendable {
        var fd: Int32 = -1
        /// The bytes in the file, their writeback and their hash.
        var written: Int64 = 0
        var writeback = Writeback()
        var sha = SHA256()
        /// Why the last write failed.
        var error: String?

        /// Starts on a new part's file.
        func start(_ fd: Int32) {
            self.fd = fd
            written = 0
            writeback.reset()
            sha = SHA256()
            error = nil
        }

        /// Appends `block` to the file; false (with `error` set) on failure.
        func write(_ block: UnsafeRawBufferPointer) -> Bool {
            do throws(TreeWriter.Failure) {
                try TreeWriter.writeAll(fd, block)
            } catch {
                self.error = error.message
                return false
            }
            written += Int64(block.count)
            writeback.written(upTo: written, fd: fd)
            return true
        }

        /// Adds a block written to the part's hash.
        func hash(_ block: UnsafeRawBufferPointer) -> Bool {
            sha.update(bufferPointer: block)
            return true
        }
    }

    /// Creates the next part's temporary file.
    private func startPart() -> Bool {
        let index = finished.count
        for _ in 0..<100 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let temporary = ".\(finalName(index)).partial-\(suffix)"
            let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            if fd >= 0 {
                temporaries.append(temporary)
                current = (fd, temporary, 0)
                file.start(fd)
                return true
            }
            if errno != EEXIST { break }
        }
        failure = .cannotWriteBundle(path: partPath(index), message: "cannot create a temporary file beside it: \(SystemError.text())")
        return false
    }

    /// Writes the rest of the current part, flushes and closes it, and records it.
    private func finishPart() -> Bool {
        guard let part = current else { return true }
        guard blocks.finish() else {
            failure = .cannotWriteBundle(path: partPath(finished.count), message: file.error ?? "cannot write")
            return false
        }
        current = nil
        let synced = fsync(part.fd) == 0
        let message = SystemError.text()
        let closed = close(part.fd) == 0
        let index = finished.count
        guard synced, closed else {
            failure = .cannotWriteBundle(path: partPath(index), message: synced ? SystemError.text() : message)
            return false
        }
        let described = BundlePart(file: partPath(index), size: part.size, sha256: Digest(bytes: file.sha.finalize()))
        finished.append((part.temporary, finalName(index), described))
        return true
    }

    /// Finishes the last part and renames every part into place (refusing to replace anything).
    func commit() throws(ArchiveError) -> BundleWriteResult {
        if let failure { throw failure }
        guard finishPart() else { throw failure! }
        if finished.isEmpty { throw .cannotWriteBundle(path: path, message: "nothing was written") }
        for file in finished {
            var info = stat()
            if fstatat(directory, file.final, &info, AT_SYMLINK_NOFOLLOW) == 0 {
                throw .bundleExists(path: path, name: file.part.file)
            }
            guard renameat(directory, file.temporary, directory, file.final) == 0 else {
                throw .cannotWriteBundle(path: file.part.file, message: "cannot rename into place: \(SystemError.text())")
            }
            renamed.append(file.final)
        }
        guard fsync(directory) == 0 else {
            throw .cannotWriteBundle(path: path, message: "cannot flush its directory: \(SystemError.text())")
        }
        let digest = splitSize == nil ? finished[0].part.sha256 : Digest(bytes: whole.finalize())
        return BundleWriteResult(parts: finished.map(\.part), sha256: digest, size: total)
    }

    /// Removes every file this object created or renamed into place.
    func discard() {
        blocks.reset()
        if let current {
            close(current.fd)
            self.current = nil
        }
        for name in temporaries { unlinkat(directory, name, 0) }
        for name in renamed { unlinkat(directory, name, 0) }
        temporaries = []
        renamed = []
        fsync(directory)
    }
}
