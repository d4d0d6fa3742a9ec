internal import CArchive
import ChartSyncBasics
import ChartSyncCore
import Glibc

/// A chart directory packaged by ``ChartPackager``.
public struct PackagedChart: Sendable, Equatable {
    /// The tarball: `<output directory>/<name>-<version>.tgz`.
    public let path: String
    /// The entry names, in archive order (`<name>/<relative path>`, sorted by their UTF-8 bytes).
    public let entries: [String]
}

/// Packages a chart directory as `helm package` would (the files Helm loads, `.helmignore`
/// honoured with Helm's rules, entries under `<chart name>/`), but reproducibly: the same files
/// give the same bytes on every run and machine with the same libarchive and zlib.
///
/// The tarball is a gzip'd POSIX tar (pax restricted) of regular-file entries only (as Helm
/// writes it: no directory entries), sorted by their UTF-8 bytes, each with owner and group 0
/// and empty names, mode 0644 (Helm's mode; executable bits are not kept), modification time
/// `mtime` and no other times or attributes; the gzip header has no time and no file name.
/// Files are taken byte for byte (Chart.yaml is not rewritten). Symbolic links, devices, FIFOs
/// and sockets are refused with their path unless `.helmignore` leaves them out (Helm follows
/// links; a chartsync delivery holds none). Helm's size limits hold: 5 MiB per file, 100 MiB
/// in all (``ExtractionLimits``).
public enum ChartPackager {
    /// Packages `directory` (whose Chart.yaml names the chart `name` at `version`; the caller
    /// has validated it) into `outputDirectory/<name>-<version>.tgz`, which must not exist yet.
    /// Written under a temporary name, flushed, then renamed; on failure nothing is left.
    public static func package(
        directory: String, name: String, version: String, into outputDirectory: String, mtime: Int64,
        limits: ExtractionLimits = .init(), cancellation: Cancellation? = nil
    ) throws(ArchiveError) -> PackagedChart {
        guard ChartName.isValid(name), ChartName.isValid(version) else {
            throw .invalidChartDirectory(path: directory, reason: "\(Quoting.doubleQuoted(name + "-" + version)) cannot be a file name")
        }
        guard mtime >= 0 else {
            throw .invalidChartDirectory(path: directory, reason: "the modification time must not be negative (\(mtime))")
        }
        let relatives = try files(in: directory, limits: limits)
        guard relatives.contains("Chart.yaml") else {
            throw .invalidChartDirectory(path: directory, reason: "Chart.yaml is left out by .helmignore")
        }
        let entries = relatives.map { name + "/" + $0 }
        if entries.contains(where: { !$0.utf8.allSatisfy { $0 < 0x80 } }), !BundleArchiveWriter.utf8Locale() {
            throw .invalidChartDirectory(path: directory, reason: "file names that are not ASCII need a UTF-8 locale (such as C.UTF-8)")
        }
        let final = outputDirectory + "/" + name + "-" + version + ".tgz"
        if FileSystem.exists(final) { throw .cannotWriteChart(path: final, message: "already exists") }
        let temporary = outputDirectory + "/." + name + "-" + version + ".tgz.partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotWriteChart(path: final, message: SystemError.text()) }
        var closed = false
        do throws(ArchiveError) {
            try write(entries: zip(relatives, entries).map { (directory + "/" + $0.0, $0.1) }, to: fd, path: final,
                      mtime: mtime, limits: limits, cancellation: cancellation)
            guard fsync(fd) == 0 else { throw .cannotWriteChart(path: final, message: "cannot flush: \(SystemError.text())") }
            closed = true
            guard close(fd) == 0 else { throw .cannotWriteChart(path: final, message: "cannot close: \(SystemError.text())") }
            guard rename(temporary, final) == 0 else { throw .cannotWriteChart(path: final, message: "cannot rename: \(SystemError.text())") }
            FileSystem.syncDirectory(outputDirectory)
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
        return PackagedChart(path: final, entries: entries)
    }

    /// The files of `directory` Helm packages, relative and sorted by their UTF-8 bytes:
    /// every regular file `.helmignore` (plus Helm's default rule) does not leave out, ignored
    /// directories skipped whole. Anything else that is not left out is refused with its path.
    public static func files(in directory: String, limits: ExtractionLimits = .init()) throws(ArchiveError) -> [String] {
        let ignore: HelmIgnore
        let ignoreFile = directory + "/.helmignore"
        do {
            switch try FileSystem.type(of: ignoreFile) {
            case nil: ignore = try HelmIgnore(parsing: nil)
            case .regular?: ignore = try HelmIgnore(parsing: try FileSystem.readFile(ignoreFile, limit: 1 << 20))
            case let other?:
                throw ArchiveError.unsafeTreeEntry(path: ignoreFile, reason: "\(other.description): .helmignore must be a regular file")
            }
        } catch let error as ArchiveError {
            throw error
        } catch let error as HelmIgnore.ParseError {
            throw .invalidChartDirectory(path: ignoreFile, reason: error.description)
        } catch {
            throw .cannotReadTree(path: ignoreFile, message: "\(error)")
        }
        guard FileSystem.isDirectory(directory) else { throw .cannotReadTree(path: directory, message: "not a directory") }
        var found: [String] = []
        var total: Int64 = 0
        func walk(_ relative: String) throws(ArchiveError) {
            let here = relative.isEmpty ? directory : directory + "/" + relative
            let names: [String]
            do { names = try FileSystem.listDirectory(here) } catch { throw .cannotReadTree(path: here, message: error.message) }
            for name in names {
                let path = relative.isEmpty ? name : relative + "/" + name
                let full = directory + "/" + path
                if case .failure(let refusal) = EntryPath.split("chart/" + path, isDirectory: false) {
                    throw .unsafeTreeEntry(path: full, reason: "a name that \(refusal.reason)")
                }
                let type: FileType?
                do { type = try FileSystem.type(of: full) } catch { throw .cannotReadTree(path: full, message: error.message) }
                switch type {
                case nil:
                    throw .cannotReadTree(path: full, message: "it vanished, or its name is not valid UTF-8")
                case .directory?:
                    if ignore.ignores(path, isDirectory: true) { continue }
                    try walk(path)
                case .regular?:
                    if ignore.ignores(path, isDirectory: false) { continue }
                    let size = FileSystem.identity(full)?.size ?? 0
                    if size > limits.maxFileBytes { throw .fileTooLarge(path: directory, entry: path, limit: limits.maxFileBytes) }
                    total += size
                    if total > limits.maxTotalBytes { throw .archiveTooLarge(path: directory, entry: path, limit: limits.maxTotalBytes) }
                    found.append(path)
                    if found.count > limits.maxEntries { throw .tooManyEntries(path: directory, entry: path, limit: limits.maxEntries) }
                case .other(let what)?:
                    if ignore.ignores(path, isDirectory: false) { continue }
                    throw .unsafeTreeEntry(path: full, reason: "\(what): a chart directory is packaged from regular files and directories only")
                }
            }
        }
        try walk("")
        return found.sorted { EntryPath.byteOrder($0, $1) }
    }

    /// Streams the files (source path, entry name) through libarchive into `fd`.
    private static func write(
        entries: [(source: String, entry: String)], to fd: Int32, path: String, mtime: Int64,
        limits: ExtractionLimits, cancellation: Cancellation?
    ) throws(ArchiveError) {
        guard let archive = archive_write_new() else { throw .cannotWriteChart(path: path, message: "out of memory") }
        var open = false
        defer {
            if open { archive_write_fail(archive) }
            archive_write_free(archive)
        }
        func check(_ status: Int32, _ what: String) throws(ArchiveError) {
            guard status != ARCHIVE_OK else { return }
            throw .cannotWriteChart(path: path, message: "\(what): \(LibArchiveEntry.message(archive))")
        }
        try check(archive_write_set_format_pax_restricted(archive), "cannot select the tar format")
        try check(archive_write_add_filter_gzip(archive), "cannot select gzip")
        // Without this, libarchive writes the current time into the gzip header.
        try check(archive_write_set_filter_option(archive, "gzip", "timestamp", nil), "cannot clear the gzip timestamp")
        try check(archive_write_set_bytes_in_last_block(archive, 1), "cannot set the last block size")
        try check(archive_write_open_fd(archive, fd), "cannot start the archive")
        open = true

        guard let header = archive_entry_new() else { throw .cannotWriteChart(path: path, message: "out of memory") }
        defer { archive_entry_free(header) }
        for (source, name) in entries {
            if cancellation?.isCancelled == true { throw .interrupted }
            let bytes = try read(source, limit: limits.maxFileBytes)
            archive_entry_clear(header)
            archive_entry_set_pathname_utf8(header, name)
            archive_entry_set_filetype(header, carchive_AE_IFREG)
            archive_entry_set_perm(header, 0o644)
            archive_entry_set_size(header, Int64(bytes.count))
            archive_entry_set_uid(header, 0)
            archive_entry_set_gid(header, 0)
            archive_entry_set_mtime(header, time_t(mtime), 0)
            try check(archive_write_header(archive, header), "cannot write the header of \(Quoting.doubleQuoted(name))")
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { archive_write_data(archive, $0.baseAddress! + offset, bytes.count - offset) }
                if written <= 0 { try check(Int32(ARCHIVE_FATAL), "cannot write \(Quoting.doubleQuoted(name))") }
                offset += written
            }
            try check(archive_write_finish_entry(archive), "cannot finish \(Quoting.doubleQuoted(name))")
        }
        try check(archive_write_close(archive), "cannot finish the archive")
        open = false
    }

    /// The bytes of the regular file at `source` (never through a link), at most `limit`.
    private static func read(_ source: String, limit: Int64) throws(ArchiveError) -> [UInt8] {
        let fd = Glibc.open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { throw .unsafeTreeEntry(path: source, reason: "a symbolic link: a chart directory is packaged from regular files and directories only") }
            throw .cannotReadTree(path: source, message: SystemError.text())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotReadTree(path: source, message: SystemError.text()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unsafeTreeEntry(path: source, reason: "it is no longer a regular file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .cannotReadTree(path: source, message: SystemError.text())
            }
            bytes += chunk[..<count]
            if Int64(bytes.count) > limit { throw .fileTooLarge(path: source, entry: source, limit: limit) }
        }
        return bytes
    }
}
