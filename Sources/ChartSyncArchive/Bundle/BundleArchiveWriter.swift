internal import CArchive
import ChartSyncBasics
import ChartSyncCore
import struct Crypto.SHA256
import Glibc

/// Writes airgap bundles: a POSIX tar (pax restricted) of `MANIFEST`, the optional
/// `MANIFEST.sig`, and `payload/<path>` for every payload file sorted by path bytes, compressed
/// with zstd or gzip or not at all, as one file or as parts of a fixed size. The output depends
/// only on the bytes given and read, the paths, the executable flags, the compression and `mtime`.
public enum BundleArchiveWriter {
    /// Writes the bundle; payload files are read while writing and their size and SHA-256 are checked against `expected`
    /// (path -> (size, sha256)) as they are streamed — a file that changed since the manifest was made aborts the write (error names it).
    ///
    /// Every entry has owner and group 0 with empty names, mode 0644 (0755 for executable files),
    /// modification time `mtime` (`SOURCE_DATE_EPOCH`, or 0) and no other times, attributes or ACLs;
    /// directories are implied, not written. gzip output has no timestamp and no file name. With
    /// `splitSize`, the compressed stream is cut into `path.000`, `path.001`, … of exactly
    /// `splitSize` bytes each (the last one shorter); otherwise it is the one file `path`. Nothing
    /// named `path` or `path.NNN` may exist yet. The files are written under temporary names beside
    /// `path`, flushed, and renamed into place at the end; on any failure nothing is left.
    /// A file whose bytes do not hash to its expected SHA-256 stops the write with
    /// ``ArchiveError/payloadMismatch(source:path:expected:actual:)``. The payload paths in
    /// `sizeOnly` are checked for their size only, for callers that hashed those files just before
    /// and check afterwards that they did not change (saves one SHA-256 pass).
    public static func write(
        to path: String, manifest: [UInt8], signature: [UInt8]?, payload: [BundlePayloadFile],
        expected: [String: (size: Int64, sha256: Digest)], compression: BundleCompression,
        mtime: Int64, splitSize: Int64?, sizeOnly: Set<String> = [], cancellation: Cancellation? = nil
    ) throws(ArchiveError) -> BundleWriteResult {
        let files = try plan(payload: payload, expected: expected, mtime: mtime, splitSize: splitSize, sizeOnly: sizeOnly)
        let output = try BundleOutput(path: path, splitSize: splitSize)
        do throws(ArchiveError) {
            try writeArchive(to: output, manifest: manifest, signature: signature, files: files,
                             compression: compression, mtime: mtime, cancellation: cancellation)
            return try output.commit()
        } catch {
            output.discard()
            throw error
        }
    }

    /// One payload file with its entry name and what it must hold.
    private struct PlannedFile {
        let file: BundlePayloadFile
        let entry: String
        let size: Int64
        let sha256: Digest?
    }

    /// Checks the request and returns the payload in entry order.
    private static func plan(
        payload: [BundlePayloadFile], expected: [String: (size: Int64, sha256: Digest)],
        mtime: Int64, splitSize: Int64?, sizeOnly: Set<String>
    ) throws(ArchiveError) -> [PlannedFile] {
        if let splitSize, splitSize <= 0 {
            throw .invalidBundleRequest(reason: "the split size must be a positive number of bytes, not \(splitSize)")
        }
        if mtime < 0 { throw .invalidBundleRequest(reason: "the modification time must not be negative (\(mtime))") }
        if let reason = BundlePath.checkSet(payload.map(\.path), what: "payload path") {
            throw .invalidBundleRequest(reason: reason)
        }
        var files: [PlannedFile] = []
        for file in payload {
            guard let want = expected[file.path] else {
                throw .invalidBundleRequest(reason: "payload path \(Quoting.doubleQuoted(file.path)) has no expected size and sha256")
            }
            guard want.size >= 0 else {
                throw .invalidBundleRequest(reason: "payload path \(Quoting.doubleQuoted(file.path)) has a negative expected size")
            }
            files.append(PlannedFile(file: file, entry: BundlePath.entryName(file.path), size: want.size,
                                     sha256: sizeOnly.contains(file.path) ? nil : want.sha256))
        }
        let given = Set(payload.map(\.path))
        if let extra = expected.keys.filter({ !given.contains($0) }).sorted(by: EntryPath.byteOrder).first {
            throw .invalidBundleRequest(reason: "expected file \(Quoting.doubleQuoted(extra)) is not in the payload")
        }
        if files.contains(where: { !$0.file.path.utf8.allSatisfy { $0 < 0x80 } }), !utf8Locale() {
            throw .invalidBundleRequest(reason: "payload paths that are not ASCII need a UTF-8 locale (such as C.UTF-8)")
        }
        return files.sorted { EntryPath.byteOrder($0.entry, $1.entry) }
    }

    /// Whether the process's character set (LC_CTYPE) is UTF-8, which libarchive needs to store non-ASCII names.
    static func utf8Locale() -> Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).uppercased()
        return name == "UTF-8" || name == "UTF8"
    }

    /// The bytes read from a payload file at a time, and the size of the blocks in flight (64 of
    /// them, see ``BundleOutput``'s).
    private static let blockSize = 128 << 10

    /// The archive's side of the payload entries: what goes into the entry being written, and the
    /// hash of a proven file. The stages of the files' ``BlockRing`` use it (one hashes, the other
    /// appends to the archive) and so does the writer's thread, never at the same time: it touches
    /// it only while no block is in flight.
    private final class PayloadStream: @unchecked Sendable {
        let archive: OpaquePointer
        let output: BundleOutput
        /// The entry being written, for messages.
        private(set) var entry = ""
        /// The SHA-256 of the proven file so far.
        var sha = SHA256()
        /// Why the last append failed.
        private var failure: ArchiveError?

        init(archive: OpaquePointer, output: BundleOutput) {
            self.archive = archive
            self.output = output
        }

        /// Starts on `entry`'s data.
        func start(_ entry: String) {
            self.entry = entry
            sha = SHA256()
            failure = nil
        }

        /// Why the last append failed.
        var error: ArchiveError {
            failure ?? .cannotWriteBundle(path: output.path, message: "cannot write \(Quoting.doubleQuoted(entry))")
        }

        /// Adds `block` to the hash.
        func hash(_ block: UnsafeRawBufferPointer) -> Bool {
            sha.update(bufferPointer: block)
            return true
        }

        /// Appends `block` to the entry; false (with ``error`` set) when libarchive or the output failed.
        func append(_ block: UnsafeRawBufferPointer) -> Bool {
            var offset = 0
            while offset < block.count {
                let written = archive_write_data(archive, block.baseAddress! + offset, block.count - offset)
                if written <= 0 {
                    failure = output.failure ?? .cannotWriteBundle(
                        path: output.path, message: "cannot write \(Quoting.doubleQuoted(entry)): \(LibArchiveEntry.message(archive))")
                    return false
                }
                offset += written
            }
            return true
        }
    }

    /// Streams the tar through libarchive into `output`.
    private static func writeArchive(
        to output: BundleOutput, manifest: [UInt8], signature: [UInt8]?, files: [PlannedFile],
        compression: BundleCompression, mtime: Int64, cancellation: Cancellation?
    ) throws(ArchiveError) {
        let path = output.path
        guard let archive = archive_write_new() else { throw .cannotWriteBundle(path: path, message: "out of memory") }
        var open = false
        defer {
            if open { archive_write_fail(archive) }
            archive_write_free(archive)
        }
        func check(_ status: Int32, _ what: String) throws(ArchiveError) {
            guard status != ARCHIVE_OK else { return }
            if let failure = output.failure { throw failure }
            throw .cannotWriteBundle(path: path, message: "\(what): \(LibArchiveEntry.message(archive))")
        }

        try check(archive_write_set_format_pax_restricted(archive), "cannot select the tar format")
        switch compression {
        case .zstd:
            try check(archive_write_add_filter_zstd(archive), "cannot select zstd")
            // zstd compresses on this thread, without workers: its multi-threaded mode holds about
            // 64 MB of job buffers (a round input buffer and output buffers for 8 MiB jobs at the
            // default level), two thirds of the peak memory of a bundle, and would take over little
            // work: bundles carry mostly compressed data (chart tarballs, image layers), which zstd
            // passes through at over 2 GiB/s on one core here. It runs on a thread of its own for
            // the files whose content is proven, and so do hashing them, and writing and hashing the
            // stream (``BundleOutput``). The single-threaded output depends only on the input and
            // the level.
            try check(archive_write_set_filter_option(archive, "zstd", "threads", "0"), "cannot set zstd threads")
        case .gzip:
            try check(archive_write_add_filter_gzip(archive), "cannot select gzip")
            // Without this, libarchive writes the current time into the gzip header.
            try check(archive_write_set_filter_option(archive, "gzip", "timestamp", nil), "cannot clear the gzip timestamp")
        case .none:
            try check(archive_write_add_filter_none(archive), "cannot select no compression")
        }
        // The compressed stream goes to `output` in the pieces the compressor makes (about 128 KiB
        // for zstd) instead of blocks of 10240 bytes, one write(2) each; the bytes are the same.
        try check(archive_write_set_bytes_per_block(archive, 0), "cannot set the block size")
        // No padding after the compressed stream (libarchive pads the last block to 10240 bytes otherwise).
        try check(archive_write_set_bytes_in_last_block(archive, 1), "cannot set the last block size")

        let context = Unmanaged.passUnretained(output).toOpaque()
        try check(archive_write_open(archive, context, nil, { _, context, buffer, length in
            guard let context else { return -1 }
            let output = Unmanaged<BundleOutput>.fromOpaque(context).takeUnretainedValue()
            return output.write(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : -1
        }, nil), "cannot start the archive")
        open = true

        let header = EntryHeader(mtime: mtime)
        defer { header.free() }
        try writeBytes(manifest, name: BundlePath.manifest, header: header, archive: archive, check: check)
        if let signature {
            try writeBytes(signature, name: BundlePath.signature, header: header, archive: archive, check: check)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
        defer { buffer.deallocate() }
        let stream = PayloadStream(archive: archive, output: output)
        // A proven file is read here into the ring's blocks, which one thread hashes and another
        // puts into the archive (tar, zstd, `output`) while the next ones are read.
        let ring = BlockRing(blockSize: blockSize, blocks: 64, stages: [{ stream.hash($0) }, { stream.append($0) }])
        // Every block is through before the archive is freed (this runs before the defer above).
        defer { ring.reset() }
        for file in files {
            try writeFile(file, header: header, stream: stream, ring: ring, buffer: buffer, cancellation: cancellation, check: check)
        }
        try check(archive_write_close(archive), "cannot finish the archive")
        open = false
        if let failure = output.failure { throw failure }
    }

    /// One reusable libarchive entry with the fixed fields of every bundle entry.
    private struct EntryHeader {
        let entry: OpaquePointer
        let mtime: Int64

        init(mtime: Int64) {
            entry = archive_entry_new()
            self.mtime = mtime
        }

        func free() { archive_entry_free(entry) }

        /// Sets the entry up for a regular file `name` of `size` bytes.
        func prepare(name: String, size: Int64, executable: Bool) {
            archive_entry_clear(entry)
            archive_entry_set_pathname_utf8(entry, name)
            archive_entry_set_filetype(entry, carchive_AE_IFREG)
            archive_entry_set_perm(entry, executable ? 0o755 : 0o644)
            archive_entry_set_size(entry, size)
            archive_entry_set_uid(entry, 0)
            archive_entry_set_gid(entry, 0)
            archive_entry_set_mtime(entry, time_t(mtime), 0)
        }
    }

    /// Writes an entry holding `bytes`.
    private static func writeBytes(
        _ bytes: [UInt8], name: String, header: EntryHeader, archive: OpaquePointer,
        check: (Int32, String) throws(ArchiveError) -> Void
    ) throws(ArchiveError) {
        header.prepare(name: name, size: Int64(bytes.count), executable: false)
        try check(archive_write_header(archive, header.entry), "cannot write the header of \(Quoting.doubleQuoted(name))")
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { archive_write_data(archive, $0.baseAddress! + offset, bytes.count - offset) }
            if written <= 0 { try check(Int32(ARCHIVE_FATAL), "cannot write \(Quoting.doubleQuoted(name))") }
            offset += written
        }
        try check(archive_write_finish_entry(archive), "cannot finish \(Quoting.doubleQuoted(name))")
    }

    /// Streams one payload file into its entry, proving its size and, when it has an expected
    /// SHA-256, its content as it goes: it is read into `ring`'s blocks, which its stages hash and
    /// append to the entry on threads of their own; a file proven by the caller is appended here.
    private static func writeFile(
        _ file: PlannedFile, header: EntryHeader, stream: PayloadStream, ring: BlockRing, buffer: UnsafeMutableRawBufferPointer,
        cancellation: Cancellation?, check: (Int32, String) throws(ArchiveError) -> Void
    ) throws(ArchiveError) {
        let source = file.file.source
        func changed(_ reason: String) -> ArchiveError { .payloadChanged(source: source, entry: file.entry, reason: reason) }
        func unreadable(_ message: String = SystemError.text()) -> ArchiveError {
            .cannotReadSource(source: source, entry: file.entry, message: message)
        }
        let fd = open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw unreadable(errno == ELOOP ? "it is a symbolic link" : SystemError.text())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw unreadable() }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw unreadable("it is not a regular file") }
        if Int64(info.st_size) != file.size {
            throw changed("its size is \(info.st_size) bytes, the manifest says \(file.size)")
        }

        header.prepare(name: file.entry, size: file.size, executable: file.file.executable)
        try check(archive_write_header(stream.archive, header.entry), "cannot write the header of \(Quoting.doubleQuoted(file.entry))")
        stream.start(file.entry)
        // At most the size the manifest says goes into the entry; one more byte means the file grew.
        var size: Int64 = 0
        while size < file.size {
            if cancellation?.isCancelled == true { throw .interrupted }
            let wanted = Int(min(Int64(buffer.count), file.size - size))
            let count: Int
            if file.sha256 == nil {
                count = read(fd, buffer.baseAddress, wanted)
                if count > 0, !stream.append(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count)) { throw stream.error }
            } else {
                guard let filled = ring.fill({ read(fd, $0.baseAddress, min($0.count, wanted)) }) else { throw stream.error }
                count = filled
            }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw unreadable()
            }
            size += Int64(count)
        }
        if size != file.size { throw changed("it holds \(size) bytes, the manifest says \(file.size)") }
        var more: UInt8 = 0
        while true {
            let count = read(fd, &more, 1)
            if count > 0 { throw changed("it holds more than the \(file.size) bytes the manifest says") }
            if count == 0 { break }
            if errno != EINTR { throw unreadable() }
        }
        if let expected = file.sha256 {
            guard ring.finish() else { throw stream.error }
            let digest = Digest(bytes: stream.sha.finalize())
            if digest != expected { throw .payloadMismatch(source: source, path: file.file.path, expected: expected, actual: digest) }
        }
        try check(archive_write_finish_entry(stream.archive), "cannot finish \(Quoting.doubleQuoted(file.entry))")
    }
}
