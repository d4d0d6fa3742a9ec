internal import CArchive
import ChartSyncBasics
import ChartSyncCore
import Glibc

/// Receives a bundle's payload entries as ``BundleArchiveReader/prove(expected:consumer:)``
/// streams them, each checked against the manifest: its bytes in blocks as they are read and
/// hashed, then its end once its size and SHA-256 are proven. Returning false stops the stream
/// (`consumerStopped`); the consumer keeps its own reason. Called on the reading thread only.
public protocol BundleEntryConsumer: AnyObject {
    /// The entry at `path` (relative, as the manifest lists it) of `size` bytes begins: whether to receive it.
    func begin(_ path: String, size: Int64) -> Bool
    /// The next bytes of the entry begun (valid only during the call).
    func data(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// The entry's bytes were all given and proven against the manifest.
    func end(_ path: String) -> Bool
}

/// Streams one bundle (one file, or its parts in order as one stream, each part checked against its expected size and SHA-256
/// as it is read — a bad part is named as soon as its end is reached).
///
/// The stream is read once, front to back: ``readManifest()`` takes the first entries, and
/// ``extract(into:expected:)`` continues from there. Only zstd, gzip or no compression and the
/// tar formats are recognised (no filter that runs an external program). A reader is used for one
/// pass; after a failure, or after ``extract(into:expected:)``, it refuses further reads.
public final class BundleArchiveReader {
    /// The bundle's name in messages: the file, or the common name of its parts (`FILE` for `FILE.000`, …).
    public let name: String
    private let input: BundleInput
    private let limits: BundleLimits
    private let archive: OpaquePointer

    /// Where the reader is in the stream.
    private enum Stage {
        /// Nothing read yet.
        case start
        /// The manifest entries were read; `pending` is the header read after them (nil at the archive's end).
        case manifestRead(pending: Header?)
        /// Finished or failed: no more reads.
        case done
    }
    private var stage = Stage.start

    /// A header read: libarchive's entry (valid until the next header is read) and its name.
    private struct Header {
        let entry: OpaquePointer
        let name: String
    }
    /// The manifest and signature, once read.
    private var manifestEntries: (manifest: [UInt8], signature: [UInt8]?)?
    /// The entries seen (every header, the manifest entries included).
    private var entries = 0
    /// The entry names seen.
    private var seen: Set<String> = []
    /// The last entry whose header was read (for messages).
    private var lastEntry: String?

    /// When set, extraction stops with `.interrupted` (and removes what it wrote) once it is cancelled.
    public var cancellation: Cancellation?

    /// How an entry is kept in memory.
    public enum Retention: Sendable {
        /// Whatever its bytes.
        case always
        /// Only when its bytes begin with `{` (a JSON document: a manifest, not a layer).
        case json
    }
    /// Which payload entries to keep in memory as they stream (`relative path`, `declared size`),
    /// within ``retainBudget`` bytes in all. Kept bytes are proven (size and SHA-256 against the
    /// expectation) before they appear in ``retained``.
    public var retain: ((String, Int64) -> Retention?)?
    /// The most bytes ``retained`` may hold; an entry that would exceed it is not kept and
    /// ``retentionOverflowed`` is set.
    public var retainBudget: Int64 = 256 << 20
    /// The proven bytes of the entries ``retain`` chose, by relative path.
    public private(set) var retained: [String: [UInt8]] = [:]
    /// Whether an entry ``retain`` chose was not kept because the budget was spent.
    public private(set) var retentionOverflowed = false
    private var retainedBytes: Int64 = 0

    /// Opens the bundle made of `parts` (one file, or the parts in order). Every part must exist;
    /// with `expectedParts`, each must also have its expected size (checked now) and SHA-256
    /// (checked as its end is read), and there must be as many parts as expected.
    public init(parts: [String], expectedParts: [BundlePart]?, limits: BundleLimits = .init()) throws(ArchiveError) {
        let name = BundleArchiveReader.bundleName(parts)
        self.name = name
        input = try BundleInput(parts: parts, expected: expectedParts, name: name)
        self.limits = limits
        guard let archive = archive_read_new() else { throw .unreadable(path: name, message: "out of memory") }
        self.archive = archive
        // zstd and gzip only: some of libarchive's other filters run external programs.
        archive_read_support_filter_zstd(archive)
        archive_read_support_filter_gzip(archive)
        archive_read_support_format_tar(archive)
        let context = Unmanaged.passUnretained(input).toOpaque()
        let status = archive_read_open(archive, context, nil, { _, context, buffer in
            guard let context, let buffer else { return -1 }
            let input = Unmanaged<BundleInput>.fromOpaque(context).takeUnretainedValue()
            let count = input.next()
            buffer.pointee = input.block
            return count
        }, nil)
        guard status == ARCHIVE_OK else {
            // The format was not recognised: a corrupt part is the better explanation, if there is one.
            stage = .done
            throw input.proveCurrentPart() ?? .unreadable(path: name, message: LibArchiveEntry.message(archive))
        }
    }

    deinit { archive_read_free(archive) }

    /// The name for messages: the one file, or the parts' name without its `.000` suffix.
    private static func bundleName(_ parts: [String]) -> String {
        guard let first = parts.first else { return "bundle" }
        if parts.count > 1, first.hasSuffix(".000") { return String(first.dropLast(4)) }
        return first
    }

    /// The parts read to their end so far, with their actual sizes and SHA-256 (all of them after ``extract(into:expected:)``).
    public var partsRead: [BundlePart] { input.finishedParts }

    /// Reads the first entries: MANIFEST (required, first) and MANIFEST.sig (optional, second). Reads nothing of the payload.
    public func readManifest() throws(ArchiveError) -> (manifest: [UInt8], signature: [UInt8]?) {
        if let manifestEntries { return manifestEntries }
        guard case .start = stage else { throw .invalidBundleRequest(reason: "\(name) was already read") }
        do throws(ArchiveError) {
            guard let first = try nextHeader() else { throw .noManifest(path: name, firstEntry: nil) }
            guard first.name == BundlePath.manifest else { throw .noManifest(path: name, firstEntry: first.name) }
            let manifest = try readSmallEntry(first)
            var signature: [UInt8]?
            var pending = try nextHeader()
            if let second = pending, second.name == BundlePath.signature {
                signature = try readSmallEntry(second)
                pending = try nextHeader()
            }
            stage = .manifestRead(pending: pending)
            manifestEntries = (manifest, signature)
            return (manifest, signature)
        } catch {
            stage = .done
            throw error
        }
    }

    /// Continues the same stream: extracts every payload entry into `staging` (must not exist; created), proving each entry
    /// against `expected` while writing (size and SHA-256), and requiring that the set of entries is EXACTLY the expected set.
    /// Returns the SHA-256 of the bundle file when the bundle is one file (for the caller's sidecar
    /// check); nil for a bundle in parts, each of which was proven on its own.
    ///
    /// Reads the manifest entries first if ``readManifest()`` was not called. Files are created
    /// fd-relative below `staging` with `O_EXCL | O_NOFOLLOW` (mode 0644, or 0755 when expected
    /// executable; directories 0755), hashed and written (whole pages around the page cache, see
    /// ``DirectWrite``) on threads of their own while the next bytes are decompressed; each is
    /// proven before the next entry begins, and all of them are flushed (fsync) once the last one
    /// was proven. After the archive's end the
    /// rest of the stream is read, so every part is proven. On any failure `staging` is removed
    /// completely and nothing else was created.
    public func extract(into staging: String, expected: [BundleExpectedFile]) throws(ArchiveError) -> Digest? {
        let (pending, wanted) = try begin(expected)

        let (parentPath, directoryName) = DirectoryFD.splitPath(staging)
        guard !directoryName.isEmpty, directoryName != ".", directoryName != "..", directoryName != "/" else {
            throw .cannotCreate(path: staging, message: "the last component must be a directory name")
        }
        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw .cannotCreate(path: staging, message: SystemError.text()) }
        defer { close(parent) }
        guard mkdirat(parent, directoryName, 0o700) == 0 else {
            if errno == EEXIST { throw .destinationExists(path: staging) }
            throw .cannotCreate(path: staging, message: SystemError.text())
        }
        let root = DirectoryFD.openDirectory(directoryName, in: parent)
        guard root >= 0 else {
            let message = SystemError.text()
            DirectoryFD.removeTree(Array(directoryName.utf8), in: parent)
            throw .cannotCreate(path: staging, message: message)
        }
        do throws(ArchiveError) {
            defer { close(root) }
            var extraction = PayloadExtraction(staging: staging, tree: TreeWriter(root: root), wanted: wanted)
            try readPayload(pending, into: &extraction)
            guard fchmod(root, 0o755) == 0 else { throw .cannotCreate(path: staging, message: SystemError.text()) }
            // Every file and directory flushed in one pass, now that all are proven.
            if let (path, error) = DirectoryFD.syncTree(root) {
                throw .cannotCreate(path: path.isEmpty ? staging : staging + "/" + path, message: "cannot flush: " + error.text)
            }
            fsync(parent)
        } catch {
            DirectoryFD.removeTree(Array(directoryName.utf8), in: parent)
            fsync(parent)
            throw error
        }
        return input.digest
    }

    /// Proves the payload like ``extract(into:expected:)`` (the same checks, every byte hashed,
    /// every part proven) without writing it anywhere: for `verify` without a destination, and
    /// for `push BUNDLE`, whose `consumer` receives the entries it asks for as they stream.
    public func prove(expected: [BundleExpectedFile], consumer: BundleEntryConsumer? = nil) throws(ArchiveError) -> Digest? {
        let (pending, wanted) = try begin(expected)
        var extraction = PayloadExtraction(staging: "(not written)", tree: nil, wanted: wanted)
        extraction.consumer = consumer
        try readPayload(pending, into: &extraction)
        return input.digest
    }

    /// Checks the request and takes the first payload header.
    private func begin(_ expected: [BundleExpectedFile]) throws(ArchiveError) -> (Header?, [String: BundleExpectedFile]) {
        if case .start = stage { _ = try readManifest() }
        guard case .manifestRead(let pending) = stage else { throw .invalidBundleRequest(reason: "\(name) was already read") }
        stage = .done
        if let reason = BundlePath.checkSet(expected.map(\.path), what: "expected file") {
            throw .invalidBundleRequest(reason: reason)
        }
        var wanted: [String: BundleExpectedFile] = [:]
        for file in expected { wanted[file.path] = file }
        return (pending, wanted)
    }

    /// Every payload entry, then the rest of the stream; every expected file must have come.
    private func readPayload(_ pending: Header?, into extraction: inout PayloadExtraction) throws(ArchiveError) {
        var header = pending
        while let current = header {
            if cancellation?.isCancelled == true { throw .interrupted }
            try extractEntry(current.entry, current.name, into: &extraction)
            header = try nextHeader()
        }
        // Read (and prove) the rest of the stream, which libarchive did not need.
        try input.drain()
        let missing = extraction.wanted.keys.filter { !extraction.written.contains($0) }
        if !missing.isEmpty {
            throw .missingEntries(path: name, entries: missing.map(BundlePath.entryName).sorted(by: EntryPath.byteOrder))
        }
    }

    /// The state of one payload extraction.
    private struct PayloadExtraction {
        let staging: String
        /// Where files are written; nil when the payload is only proven.
        var tree: TreeWriter?
        let wanted: [String: BundleExpectedFile]
        /// Hashes each entry's bytes on a thread of its own, and writes them on another.
        let hasher = BackgroundHasher(blockSize: 1 << 20, blocks: 4)
        /// Relative paths written.
        var written: Set<String> = []
        /// Payload bytes written.
        var total: Int64 = 0
        /// Receives the entries it asks for (only when nothing is written).
        var consumer: BundleEntryConsumer?

        init(staging: String, tree: TreeWriter?, wanted: [String: BundleExpectedFile]) {
            self.staging = staging
            self.tree = tree
            self.wanted = wanted
        }
    }

    /// Checks one payload entry against the allow-list and its expectation, then writes and proves it.
    private func extractEntry(_ entry: OpaquePointer, _ entryName: String, into extraction: inout PayloadExtraction) throws(ArchiveError) {
        func refuse(_ reason: String) -> ArchiveError { .unsafeEntry(path: name, entry: entryName, reason: reason) }
        let isDirectory: Bool
        switch LibArchiveEntry.kind(of: entry) {
        case .success(let value): isDirectory = value
        case .failure(let refusal): throw refuse(refusal.reason)
        }
        if isDirectory { throw refuse("is a directory (a bundle holds files only)") }
        let components: [String]
        switch BundlePath.components(ofEntry: entryName) {
        case .success(let value): components = value
        case .failure(let refusal): throw refuse(refusal.reason)
        }
        guard seen.insert(entryName).inserted else { throw refuse("duplicates an earlier entry") }
        let relative = components.joined(separator: "/")
        guard let want = extraction.wanted[relative] else { throw refuse("is not in the manifest") }
        let mode = LibArchiveEntry.permissions(of: entry)
        let wantedMode: UInt32 = want.executable ? 0o755 : 0o644
        guard mode == wantedMode else {
            throw refuse("has mode \(String(mode, radix: 8)), the manifest says \(String(wantedMode, radix: 8))")
        }
        guard archive_entry_size_is_set(entry) != 0 else { throw refuse("has no size in its header") }
        let declared = archive_entry_size(entry)
        if declared > limits.maxFileBytes { throw .fileTooLarge(path: name, entry: entryName, limit: limits.maxFileBytes) }
        if extraction.total + declared > limits.maxTotalBytes {
            throw .archiveTooLarge(path: name, entry: entryName, limit: limits.maxTotalBytes)
        }
        if declared != want.size { throw .entrySizeMismatch(path: name, entry: entryName, expected: want.size, actual: declared) }

        let target = extraction.staging + "/" + relative
        var fd: Int32 = -1
        if extraction.tree != nil {
            do throws(TreeWriter.Failure) {
                fd = try extraction.tree!.createFile(components)
            } catch {
                throw .cannotWrite(path: name, entry: entryName, target: target, message: error.message)
            }
        }
        defer { if fd >= 0 { close(fd) } }
        var size: Int64 = 0
        var total = extraction.total
        let rule = retain?(relative, declared)
        var keep = rule != nil
        if keep && retainedBytes + declared > retainBudget {
            keep = false
            retentionOverflowed = true
        }
        var kept: [UInt8] = []
        let consumer = extraction.consumer
        let streams = consumer?.begin(relative, size: declared) == true
        // The bytes are copied into the hasher's blocks; one of its threads hashes them, the other
        // writes them (one write a block, around the page cache where the file system allows it),
        // while this one decompresses the next ones.
        let hasher = extraction.hasher
        var file = fd >= 0 ? DirectWrite(fd: fd) : nil
        var writeFailure: SystemCallError?
        hasher.reset(sink: file == nil ? nil : { block in
            do throws(SystemCallError) {
                try file?.write(block)
            } catch {
                writeFailure = error
                return false
            }
            return true
        })
        // Before the file is closed (declared after its close, so run before it): no block of it
        // is written any more.
        defer { hasher.reset() }
        func writeError() -> ArchiveError {
            .cannotWrite(path: name, entry: entryName, target: target, message: (writeFailure ?? SystemCallError(code: EIO)).text)
        }
        while true {
            // libarchive's own block of the entry's data (no copy into a buffer of ours).
            var data: UnsafeRawPointer?
            var count = 0
            var offset: la_int64_t = 0
            let status = archive_read_data_block(archive, &data, &count, &offset)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK else { throw failure(entry: entryName, LibArchiveEntry.message(archive)) }
            if cancellation?.isCancelled == true { throw .interrupted }
            // Sparse entries were refused with their header: the data is contiguous.
            guard offset == size else { throw refuse("has a gap in its data at byte \(size)") }
            guard count > 0, let data else { continue }
            let bytes = UnsafeRawBufferPointer(start: data, count: count)
            if keep && size + Int64(count) <= want.size {
                // Only JSON documents: a layer is never kept, whatever its size.
                if kept.isEmpty, case .json? = rule, bytes.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) != UInt8(ascii: "{") {
                    keep = false
                } else {
                    kept.append(contentsOf: bytes)
                }
            }
            size += Int64(count)
            total += Int64(count)
            if size > want.size { throw .entrySizeMismatch(path: name, entry: entryName, expected: want.size, actual: size) }
            if streams, consumer?.data(bytes) != true { throw .consumerStopped(path: name, entry: entryName) }
            if size > limits.maxFileBytes { throw .fileTooLarge(path: name, entry: entryName, limit: limits.maxFileBytes) }
            if total > limits.maxTotalBytes { throw .archiveTooLarge(path: name, entry: entryName, limit: limits.maxTotalBytes) }
            guard hasher.update(bytes) else { throw writeError() }
        }
        guard let digest = hasher.finalize() else { throw writeError() }
        extraction.total = total
        if size != want.size { throw .entrySizeMismatch(path: name, entry: entryName, expected: want.size, actual: size) }
        if digest != want.sha256 {
            throw .entryDigestMismatch(path: name, entry: entryName, expected: want.sha256, actual: digest)
        }
        // Flushed with the whole tree at the end (DirectoryFD.syncTree), before anything is renamed.
        guard fd < 0 || fchmod(fd, mode_t(wantedMode)) == 0 else {
            throw .cannotWrite(path: name, entry: entryName, target: target, message: SystemError.text())
        }
        if keep && Int64(kept.count) == size {
            retained[relative] = kept
            retainedBytes += size
        }
        // Only now, proven: the consumer may act on the entry (e.g. close a blob upload).
        if streams, consumer?.end(relative) != true { throw .consumerStopped(path: name, entry: entryName) }
        extraction.written.insert(relative)
    }

    /// Reads the next header: nil at the archive's end. Counts entries against the limit and refuses
    /// headers libarchive warns about and names that are not UTF-8.
    private func nextHeader() throws(ArchiveError) -> Header? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            throw failure(entry: nil, LibArchiveEntry.message(archive))
        }
        let (display, text, problem) = LibArchiveEntry.name(of: entry)
        lastEntry = display
        entries += 1
        if entries > limits.maxEntries { throw .tooManyEntries(path: name, entry: display, limit: limits.maxEntries) }
        if status == ARCHIVE_WARN {
            throw .unsafeEntry(path: name, entry: display, reason: "libarchive warned: \(LibArchiveEntry.message(archive))")
        }
        guard let text else { throw .unsafeEntry(path: name, entry: display, reason: problem ?? "has no name") }
        return Header(entry: entry, name: text)
    }

    /// Reads MANIFEST or MANIFEST.sig into memory: a regular file of mode 0644 within the manifest limit.
    private func readSmallEntry(_ header: Header) throws(ArchiveError) -> [UInt8] {
        let (entry, entryName) = (header.entry, header.name)
        func refuse(_ reason: String) -> ArchiveError { .unsafeEntry(path: name, entry: entryName, reason: reason) }
        switch LibArchiveEntry.kind(of: entry) {
        case .success(let isDirectory): if isDirectory { throw refuse("is a directory") }
        case .failure(let refusal): throw refuse(refusal.reason)
        }
        let mode = LibArchiveEntry.permissions(of: entry)
        guard mode == 0o644 else { throw refuse("has mode \(String(mode, radix: 8)), not 644") }
        seen.insert(entryName)
        let limit = limits.maxManifestBytes
        if archive_entry_size_is_set(entry) != 0, archive_entry_size(entry) > Int64(limit) {
            throw .entryTooLarge(path: name, entry: entryName, limit: limit)
        }
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = block.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if count == 0 { break }
            guard count > 0 else { throw failure(entry: entryName, LibArchiveEntry.message(archive)) }
            if bytes.count + count > limit { throw .entryTooLarge(path: name, entry: entryName, limit: limit) }
            bytes.append(contentsOf: block[0..<count])
        }
        return bytes
    }

    /// The error for a libarchive failure once the archive was recognised: the part's own failure
    /// when the byte source failed (or the part libarchive failed in is corrupt), a truncated bundle
    /// when the stream had ended, otherwise libarchive's message with the entry.
    private func failure(entry: String?, _ message: String) -> ArchiveError {
        if let failure = input.proveCurrentPart() { return failure }
        if input.exhausted {
            return .truncatedBundle(path: name, lastPart: input.currentPart, entry: entry, message: message)
        }
        if let entry { return .unreadableEntry(path: name, entry: entry, message: message) }
        let after = lastEntry.map { " (after entry \(Quoting.doubleQuoted($0)))" } ?? ""
        return .unreadable(path: name, message: message + after)
    }
}
