internal import CArchive
import ChartSyncBasics
import ChartSyncCore
import struct Crypto.SHA256
import Glibc

/// Limits for unpacking one chart (Helm's own defaults: 100 MiB total, 5 MiB per file).
public struct ExtractionLimits: Sendable {
    /// The most bytes all files together may hold, counted as they are decompressed (not from headers).
    public var maxTotalBytes: Int64
    /// The most bytes one file may hold, counted as it is decompressed (not from its header).
    public var maxFileBytes: Int64
    /// The most entries (files and directories) the archive may have.
    public var maxEntries: Int

    /// Creates limits; the defaults are Helm's (100 MiB in total, 5 MiB per file) and 10,000 entries.
    public init(maxTotalBytes: Int64 = 100 << 20, maxFileBytes: Int64 = 5 << 20, maxEntries: Int = 10_000) {
        self.maxTotalBytes = maxTotalBytes
        self.maxFileBytes = maxFileBytes
        self.maxEntries = maxEntries
    }
}

/// What an extraction produced.
public struct ExtractedChart: Sendable {
    /// The directory the chart was unpacked into (the destination as given).
    public let directory: String
    /// The relative paths of the regular files written, sorted by their UTF-8 bytes.
    public let files: [String]
    /// The digest of the unpacked tree, as ``TreeDigest/compute(directory:)`` would compute it.
    public let treeDigest: Digest
    /// The number of file bytes written (decompressed).
    public let bytes: Int64
}

/// Safe extraction of chart tarballs: an allow-list of regular files and directories with
/// normalized relative paths under one top directory; anything else fails the whole extraction.
public enum ChartExtractor {
    /// Unpacks the chart tarball at `archive` into `destination`, which must not exist yet (it is
    /// created by this call, mode 0755), stripping the top directory `<topDirectory>/` (or `./`,
    /// the form of charts packed with `tar -C chart .`); every entry must be under that one top.
    ///
    /// Only regular files and directories with normalized relative names are accepted; absolute
    /// names, `..`, `.` or empty components, backslashes, control characters, links, devices,
    /// FIFOs, sockets, sparse files, setuid/setgid/sticky modes, duplicates, names outside the top
    /// directory, entries libarchive warns about, and files or totals over `limits` are refused
    /// with the archive and entry named. Files get mode 0644 (0755 when any execute bit was set),
    /// directories 0755. Files are written, hashed and flushed in one pass into a staging directory
    /// beside `destination`, which is renamed onto `destination` when everything was accepted. On
    /// any failure nothing is left: neither `destination` nor the staging directory.
    public static func extract(
        archive: String, into destination: String, topDirectory: String, limits: ExtractionLimits = .init(),
        cancellation: Cancellation? = nil
    ) throws(ArchiveError) -> ExtractedChart {
        guard ChartName.isValid(topDirectory) else { throw .invalidTopDirectory(name: topDirectory) }
        let (parentPath, name) = DirectoryFD.splitPath(destination)
        guard ChartName.isValid(name) else {
            throw .cannotCreate(path: destination, message: "the last component must be a plain directory name")
        }
        var info = stat()
        if lstat(destination, &info) == 0 { throw .destinationExists(path: destination) }

        let (reader, input) = try ChartInput.open(path: archive, limits: limits, cancellation: cancellation)
        defer { archive_read_free(reader); withExtendedLifetime(input) {} }

        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw .cannotCreate(path: destination, message: SystemError.text()) }
        defer { close(parent) }
        // Reserve the destination (mkdir is atomic), then stage beside it and rename over it.
        guard mkdirat(parent, name, 0o755) == 0 else {
            if errno == EEXIST { throw .destinationExists(path: destination) }
            throw .cannotCreate(path: destination, message: SystemError.text())
        }
        let made: String
        do {
            made = try FileSystem.makeTemporaryDirectory(in: parentPath, prefix: ".\(name).partial")
        } catch {
            unlinkat(parent, name, AT_REMOVEDIR)
            throw .cannotCreate(path: destination, message: "cannot create a staging directory beside it: \(error.message)")
        }
        let stagingName = DirectoryFD.splitPath(made).name
        let staging = DirectoryFD.openDirectory(stagingName, in: parent)
        guard staging >= 0 else {
            let message = SystemError.text()
            DirectoryFD.removeTree(Array(stagingName.utf8), in: parent)
            unlinkat(parent, name, AT_REMOVEDIR)
            throw .cannotCreate(path: destination, message: "cannot open the staging directory: \(message)")
        }

        var extraction = Extraction(
            reader: reader, archive: archive, destination: destination, topDirectory: topDirectory,
            limits: limits, root: staging)
        do throws(ArchiveError) {
            defer { close(staging) }
            try extraction.run()
            guard fchmod(staging, 0o755) == 0 else {
                throw .cannotCreate(path: destination, message: "cannot set the mode: \(SystemError.text())")
            }
            DirectoryFD.syncDirectories(staging)
            guard renameat(parent, stagingName, parent, name) == 0 else {
                throw .cannotCreate(path: destination, message: "cannot rename the staging directory into place: \(SystemError.text())")
            }
            fsync(parent)
        } catch {
            DirectoryFD.removeTree(Array(stagingName.utf8), in: parent)
            unlinkat(parent, name, AT_REMOVEDIR)
            throw input.explain(error)
        }
        let (digest, files) = TreeDigest.combine(extraction.hashes)
        return ExtractedChart(directory: destination, files: files, treeDigest: digest, bytes: extraction.total)
    }
}

/// The state of one extraction: the entries seen so far and the files written.
private struct Extraction {
    let reader: OpaquePointer
    let archive: String
    let destination: String
    let topDirectory: String
    let limits: ExtractionLimits
    /// Writes below the staging directory.
    var tree: TreeWriter

    /// The top directory the first entry chose (`topDirectory` or `.`).
    var top: String?
    /// Relative paths of the files written.
    var files: Set<String> = []
    /// Relative paths of directories that had their own entry ("" is the top directory's).
    var explicitDirectories: Set<String> = []
    /// (relative path, sha256 hex) of every file written.
    var hashes: [(String, String)] = []
    /// Entries seen.
    var entries = 0
    /// File bytes written.
    var total: Int64 = 0

    init(reader: OpaquePointer, archive: String, destination: String, topDirectory: String, limits: ExtractionLimits, root: Int32) {
        self.reader = reader
        self.archive = archive
        self.destination = destination
        self.topDirectory = topDirectory
        self.limits = limits
        self.tree = TreeWriter(root: root)
    }

    mutating func run() throws(ArchiveError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var previous: String?
        while let (entry, warned) = try LibArchiveEntry.next(reader, archive: archive, previous: previous) {
            let (name, text, problem) = LibArchiveEntry.name(of: entry)
            entries += 1
            if entries > limits.maxEntries { throw .tooManyEntries(path: archive, entry: name, limit: limits.maxEntries) }
            if warned {
                throw refuse(name, "libarchive warned: \(LibArchiveEntry.message(reader))")
            }
            guard let text else { throw refuse(name, problem ?? "has no name") }
            let isDirectory = try checkKind(entry, name)
            let split: EntryPath.Split
            switch EntryPath.split(text, isDirectory: isDirectory) {
            case .success(let value): split = value
            case .failure(let refusal): throw refuse(name, refusal.reason)
            }
            let expected = top ?? topDirectory
            guard split.top == expected || (top == nil && split.top == ".") else {
                throw refuse(name, "is outside the top directory \(Quoting.doubleQuoted(expected + "/"))")
            }
            top = split.top
            if isDirectory {
                try addDirectory(split.components, name)
            } else {
                guard !split.components.isEmpty else {
                    throw refuse(name, "is a file in place of the top directory \(Quoting.doubleQuoted(split.top + "/"))")
                }
                try addFile(split.components, name, entry, buffer)
            }
            previous = name
        }
        if files.isEmpty { throw .noFiles(path: archive) }
    }

    func refuse(_ name: String, _ reason: String) -> ArchiveError {
        .unsafeEntry(path: archive, entry: name, reason: reason)
    }

    /// Accepts regular files and directories without special mode bits; returns whether it is a directory.
    func checkKind(_ entry: OpaquePointer, _ name: String) throws(ArchiveError) -> Bool {
        switch LibArchiveEntry.kind(of: entry) {
        case .success(let isDirectory): return isDirectory
        case .failure(let refusal): throw refuse(name, refusal.reason)
        }
    }

    /// Refuses a path that lies under an earlier file.
    func checkPrefixes(_ components: [String], _ name: String) throws(ArchiveError) {
        var prefix = ""
        for component in components.dropLast() {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            if files.contains(prefix) { throw refuse(name, "lies under the earlier file \(Quoting.doubleQuoted(prefix))") }
        }
    }

    mutating func addDirectory(_ components: [String], _ name: String) throws(ArchiveError) {
        let relative = components.joined(separator: "/")
        try checkPrefixes(components, name)
        if files.contains(relative) { throw refuse(name, "has the same path as an earlier file") }
        guard explicitDirectories.insert(relative).inserted else { throw refuse(name, "duplicates an earlier entry") }
        do throws(TreeWriter.Failure) {
            close(try tree.openDirectory(components[...]))
        } catch {
            throw writeError(name, components, error.message)
        }
    }

    mutating func addFile(
        _ components: [String], _ name: String, _ entry: OpaquePointer, _ buffer: UnsafeMutableRawBufferPointer
    ) throws(ArchiveError) {
        let relative = components.joined(separator: "/")
        try checkPrefixes(components, name)
        if tree.directories.contains(relative) { throw refuse(name, "has the same path as an earlier directory") }
        guard files.insert(relative).inserted else { throw refuse(name, "duplicates an earlier entry") }
        if archive_entry_size_is_set(entry) != 0 {
            let declared = archive_entry_size(entry)
            if declared > limits.maxFileBytes {
                throw .fileTooLarge(path: archive, entry: name, limit: limits.maxFileBytes)
            }
            if total + declared > limits.maxTotalBytes {
                throw .archiveTooLarge(path: archive, entry: name, limit: limits.maxTotalBytes)
            }
        }
        let executable = LibArchiveEntry.permissions(of: entry) & 0o111 != 0
        let fd: Int32
        do throws(TreeWriter.Failure) { fd = try tree.createFile(components) } catch { throw writeError(name, components, error.message) }
        defer { close(fd) }

        var hasher = SHA256()
        var size: Int64 = 0
        do throws(TreeWriter.CopyFailure) {
            _ = try TreeWriter.copyEntryData(from: reader, to: fd, buffer: buffer, hasher: &hasher) { (count) throws(ArchiveError) in
                size += Int64(count)
                total += Int64(count)
                if size > limits.maxFileBytes {
                    throw .fileTooLarge(path: archive, entry: name, limit: limits.maxFileBytes)
                }
                if total > limits.maxTotalBytes {
                    throw .archiveTooLarge(path: archive, entry: name, limit: limits.maxTotalBytes)
                }
            }
        } catch {
            switch error {
            case .read(let message): throw .unreadableEntry(path: archive, entry: name, message: message)
            case .write(let failure): throw writeError(name, components, failure.message)
            case .refused(let refusal): throw refusal
            }
        }
        guard fchmod(fd, executable ? 0o755 : 0o644) == 0, fsync(fd) == 0 else {
            throw writeError(name, components, SystemError.text())
        }
        let hex = Digest(bytes: hasher.finalize()).hex
        hashes.append((relative, hex))
    }

    func writeError(_ name: String, _ components: [String], _ message: String) -> ArchiveError {
        let target = components.isEmpty ? destination : destination + "/" + components.joined(separator: "/")
        return .cannotWrite(path: archive, entry: name, target: target, message: message)
    }
}
