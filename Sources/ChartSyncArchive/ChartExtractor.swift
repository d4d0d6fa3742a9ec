import CArchive
import ChartSyncCore
import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    public let treeDigest: ChartSyncCore.Digest
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
        archive: String, into destination: String, topDirectory: String, limits: ExtractionLimits = .init()
    ) throws(ArchiveError) -> ExtractedChart {
        guard ChartName.isValid(topDirectory) else { throw .invalidTopDirectory(name: topDirectory) }
        let (parentPath, name) = DirectoryFD.splitPath(destination)
        guard ChartName.isValid(name) else {
            throw .cannotCreate(path: destination, message: "the last component must be a plain directory name")
        }
        var info = stat()
        if lstat(destination, &info) == 0 { throw .destinationExists(path: destination) }

        let reader = try openReader(archive)
        defer { archive_read_free(reader) }

        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw .cannotCreate(path: destination, message: DirectoryFD.reason()) }
        defer { close(parent) }
        // Reserve the destination (mkdir is atomic), then stage beside it and rename over it.
        guard mkdirat(parent, name, 0o755) == 0 else {
            if errno == EEXIST { throw .destinationExists(path: destination) }
            throw .cannotCreate(path: destination, message: DirectoryFD.reason())
        }
        var template = Array("\(parentPath)/.\(name).partial-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            let message = DirectoryFD.reason()
            unlinkat(parent, name, AT_REMOVEDIR)
            throw .cannotCreate(path: destination, message: "cannot create a staging directory beside it: \(message)")
        }
        let stagingName = DirectoryFD.splitPath(String(cString: made)).name
        let staging = DirectoryFD.openDirectory(stagingName, in: parent)
        guard staging >= 0 else {
            let message = DirectoryFD.reason()
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
                throw .cannotCreate(path: destination, message: "cannot set the mode: \(DirectoryFD.reason())")
            }
            DirectoryFD.syncDirectories(staging)
            guard renameat(parent, stagingName, parent, name) == 0 else {
                throw .cannotCreate(path: destination, message: "cannot rename the staging directory into place: \(DirectoryFD.reason())")
            }
            fsync(parent)
        } catch {
            DirectoryFD.removeTree(Array(stagingName.utf8), in: parent)
            unlinkat(parent, name, AT_REMOVEDIR)
            throw error
        }
        let (digest, files) = TreeDigest.combine(extraction.hashes)
        return ExtractedChart(directory: destination, files: files, treeDigest: digest, bytes: extraction.total)
    }

    /// A libarchive reader for gzip'd (or plain) tar only: no other formats, and no filters that
    /// run external programs.
    private static func openReader(_ archive: String) throws(ArchiveError) -> OpaquePointer {
        guard let reader = archive_read_new() else { throw .unreadable(path: archive, message: "out of memory") }
        archive_read_support_filter_gzip(reader)
        archive_read_support_format_tar(reader)
        archive_read_support_format_gnutar(reader)
        guard archive_read_open_filename(reader, archive, 64 * 1024) == ARCHIVE_OK else {
            let message = libarchiveMessage(reader)
            archive_read_free(reader)
            throw .unreadable(path: archive, message: message)
        }
        return reader
    }

    /// libarchive's last error text for `reader`.
    static func libarchiveMessage(_ reader: OpaquePointer) -> String {
        archive_error_string(reader).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}

/// The state of one extraction: the entries seen so far and the files written.
private struct Extraction {
    let reader: OpaquePointer
    let archive: String
    let destination: String
    let topDirectory: String
    let limits: ExtractionLimits
    /// The staging directory all writes are relative to.
    let root: Int32

    /// The top directory the first entry chose (`topDirectory` or `.`).
    var top: String?
    /// Relative paths of the files written.
    var files: Set<String> = []
    /// Relative paths of the directories that exist (explicit entries and implied parents).
    var directories: Set<String> = [""]
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
        self.root = root
    }

    mutating func run() throws(ArchiveError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var previous: String?
        while true {
            var entry: OpaquePointer?
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                let after = previous.map { " (after entry \(Quoting.doubleQuoted($0)))" } ?? ""
                throw .unreadable(path: archive, message: ChartExtractor.libarchiveMessage(reader) + after)
            }
            let (name, text, problem) = Self.name(of: entry)
            entries += 1
            if entries > limits.maxEntries { throw .tooManyEntries(path: archive, entry: name, limit: limits.maxEntries) }
            if status == ARCHIVE_WARN {
                throw refuse(name, "libarchive warned: \(ChartExtractor.libarchiveMessage(reader))")
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

    /// The entry's name for messages, and either its text (valid UTF-8) or why it cannot be used.
    static func name(of entry: OpaquePointer) -> (display: String, text: String?, problem: String?) {
        if let pointer = archive_entry_pathname_utf8(entry) {
            let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
            if let text = String(validating: bytes, as: UTF8.self) { return (text, text, nil) }
            return (String(decoding: bytes, as: UTF8.self), nil, "has a name that is not valid UTF-8")
        }
        guard let pointer = archive_entry_pathname(entry) else { return ("", nil, "has no name") }
        let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
        if String(validating: bytes, as: UTF8.self) != nil {
            // libarchive converts names through the process locale; in the C locale it cannot.
            return (String(decoding: bytes, as: UTF8.self), nil,
                    "has a name libarchive cannot convert to UTF-8 in this locale (run in a UTF-8 locale such as C.UTF-8)")
        }
        return (String(decoding: bytes, as: UTF8.self), nil, "has a name that is not valid UTF-8")
    }

    func refuse(_ name: String, _ reason: String) -> ArchiveError {
        .unsafeEntry(path: archive, entry: name, reason: reason)
    }

    /// Accepts regular files and directories without special mode bits; returns whether it is a directory.
    func checkKind(_ entry: OpaquePointer, _ name: String) throws(ArchiveError) -> Bool {
        if let target = archive_entry_hardlink(entry) {
            throw refuse(name, "is a hard link to \(Quoting.doubleQuoted(String(cString: target)))")
        }
        let type = UInt32(archive_entry_filetype(entry)) & carchive_AE_IFMT
        if type == carchive_AE_IFLNK || archive_entry_symlink(entry) != nil {
            let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
            throw refuse(name, "is a symbolic link to \(Quoting.doubleQuoted(target))")
        }
        let isDirectory: Bool
        switch type {
        case carchive_AE_IFREG: isDirectory = false
        case carchive_AE_IFDIR: isDirectory = true
        case carchive_AE_IFCHR: throw refuse(name, "is a character device")
        case carchive_AE_IFBLK: throw refuse(name, "is a block device")
        case carchive_AE_IFIFO: throw refuse(name, "is a FIFO")
        case carchive_AE_IFSOCK: throw refuse(name, "is a socket")
        default: throw refuse(name, "has an unsupported file type (mode \(String(archive_entry_mode(entry), radix: 8)))")
        }
        let mode = UInt32(archive_entry_mode(entry)) & 0o7777
        if mode & 0o7000 != 0 {
            throw refuse(name, "has the setuid, setgid or sticky bit (mode \(String(mode, radix: 8)))")
        }
        if !isDirectory, archive_entry_sparse_count(entry) > 0 { throw refuse(name, "is a sparse file") }
        return isDirectory
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
        let fd = try openDirectory(components, name)
        close(fd)
    }

    /// Opens the directory at `components` below the root, creating what is missing (mode 0755),
    /// never following a symlink. The caller closes the returned descriptor.
    mutating func openDirectory(_ components: [String], _ name: String) throws(ArchiveError) -> Int32 {
        var current = dup(root)
        guard current >= 0 else { throw writeError(name, components, DirectoryFD.reason()) }
        var prefix = ""
        for component in components {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            let created = !directories.contains(prefix)
            if created, mkdirat(current, component, 0o755) != 0 {
                let message = DirectoryFD.reason()
                close(current)
                throw writeError(name, components, message)
            }
            let next = DirectoryFD.openDirectory(component, in: current)
            let message = DirectoryFD.reason()
            close(current)
            guard next >= 0 else { throw writeError(name, components, message) }
            if created {
                guard fchmod(next, 0o755) == 0 else {
                    let message = DirectoryFD.reason()
                    close(next)
                    throw writeError(name, components, message)
                }
                directories.insert(prefix)
            }
            current = next
        }
        return current
    }

    mutating func addFile(
        _ components: [String], _ name: String, _ entry: OpaquePointer, _ buffer: UnsafeMutableRawBufferPointer
    ) throws(ArchiveError) {
        let relative = components.joined(separator: "/")
        try checkPrefixes(components, name)
        if directories.contains(relative) { throw refuse(name, "has the same path as an earlier directory") }
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
        let executable = UInt32(archive_entry_mode(entry)) & 0o111 != 0
        let directory = try openDirectory(Array(components.dropLast()), name)
        let fd = openat(directory, components[components.count - 1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        let openError = DirectoryFD.reason()
        close(directory)
        guard fd >= 0 else { throw writeError(name, components, openError) }
        defer { close(fd) }

        var hasher = SHA256()
        var size: Int64 = 0
        while true {
            let count = archive_read_data(reader, buffer.baseAddress, buffer.count)
            if count == 0 { break }
            guard count > 0 else {
                throw .unreadableEntry(path: archive, entry: name, message: ChartExtractor.libarchiveMessage(reader))
            }
            size += Int64(count)
            total += Int64(count)
            if size > limits.maxFileBytes {
                throw .fileTooLarge(path: archive, entry: name, limit: limits.maxFileBytes)
            }
            if total > limits.maxTotalBytes {
                throw .archiveTooLarge(path: archive, entry: name, limit: limits.maxTotalBytes)
            }
            let block = UnsafeRawBufferPointer(start: buffer.baseAddress, count: count)
            hasher.update(bufferPointer: block)
            var offset = 0
            while offset < count {
                let written = write(fd, block.baseAddress! + offset, count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw writeError(name, components, DirectoryFD.reason())
                }
                offset += written
            }
        }
        guard fchmod(fd, executable ? 0o755 : 0o644) == 0, fsync(fd) == 0 else {
            throw writeError(name, components, DirectoryFD.reason())
        }
        let hex = ChartSyncCore.Digest(bytes: hasher.finalize()).hex
        hashes.append((relative, hex))
    }

    func writeError(_ name: String, _ components: [String], _ message: String) -> ArchiveError {
        let target = components.isEmpty ? destination : destination + "/" + components.joined(separator: "/")
        return .cannotWrite(path: archive, entry: name, target: target, message: message)
    }
}
